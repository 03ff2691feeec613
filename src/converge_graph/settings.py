"""Runtime configuration: the only module that reads the environment.

Every setting can be given as an environment variable (names in upper case,
e.g. ``NEO4J_URI``, ``API_PORT``, ``CVG_DEFAULT_REGION``) or in a ``.env`` file.
Matching policy (priorities, limits, block lists) is not runtime config: it
lives in :mod:`converge_graph.core.policy` and may be loaded from ``CVG_POLICY_FILE``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    neo4j_uri: str = Field("bolt://127.0.0.1:7687", alias="NEO4J_URI")
    neo4j_user: str = Field("neo4j", alias="NEO4J_USER")
    neo4j_password: str = Field("", alias="NEO4J_PASSWORD")
    neo4j_database: str = Field("neo4j", alias="NEO4J_DATABASE")
    # How long the driver retries a transaction (deadlocks, a restarting server) before a
    # request answers 503: short, so clients see Retry-After rather than their own timeout.
    neo4j_retry_seconds: float = Field(5.0, gt=0, alias="CVG_NEO4J_RETRY_SECONDS")

    api_host: str = Field("127.0.0.1", alias="API_HOST")
    api_port: int = Field(8000, alias="API_PORT")
    api_workers: int = Field(1, ge=1, alias="API_WORKERS")
    # Slow or idle clients (docs/security.md#deploying-behind-a-proxy): an idle keep-alive
    # connection is closed after this many seconds; beyond api_limit_concurrency open
    # connections and requests the server answers 503 rather than queueing without bound.
    # Slowly sent requests and oversized heads are for a reverse proxy to cut off.
    api_keep_alive_seconds: int = Field(5, ge=1, alias="API_KEEP_ALIVE_SECONDS")
    api_limit_concurrency: int = Field(1000, ge=1, alias="API_LIMIT_CONCURRENCY")
    public_url: str = Field("", alias="CVG_PUBLIC_URL", description="Base URL clients use")
    browser_url: str = Field("http://localhost:7474/browser/", alias="CVG_BROWSER_URL")

    cors_origins: list[str] = Field(default_factory=list, alias="CVG_CORS_ORIGINS")
    default_region: str = Field("US", alias="CVG_DEFAULT_REGION")
    policy_file: Path | None = Field(None, alias="CVG_POLICY_FILE")
    demo: bool = Field(False, alias="CVG_DEMO")
    cookie_name: str = Field("__cvg_uid", alias="CVG_COOKIE_NAME")

    max_event_bytes: int = Field(64 * 1024, alias="CVG_MAX_EVENT_BYTES")
    max_batch_bytes: int = Field(5 * 1024 * 1024, alias="CVG_MAX_BATCH_BYTES")
    max_batch_events: int = Field(500, alias="CVG_MAX_BATCH_EVENTS")
    # Neo4j never frees a property-key name: one write may carry at most max_property_keys
    # top-level keys in properties and profile properties together (more is a 422), and
    # turn at most max_promoted_keys of them into node properties (event `prop.<key>`,
    # profile keys); the rest is kept only in the JSON copy and still read back.
    max_property_keys: int = Field(200, ge=1, alias="CVG_MAX_PROPERTY_KEYS")
    max_promoted_keys: int = Field(50, ge=0, alias="CVG_MAX_PROMOTED_KEYS")
    # How far ahead of the server's clock a trusted (webhook) event time may be; later is a
    # 422. A browser's time is never trusted beyond the moment its request arrived: it is
    # clamped to that (docs/security.md#input-hygiene-and-limits).
    max_future_seconds: float = Field(86400.0, ge=0, alias="CVG_MAX_FUTURE_SECONDS")

    # Token and key checks remembered (least recently used dropped first): bounded, since
    # anyone can send made-up tokens.
    auth_cache_size: int = Field(10_000, ge=1, alias="CVG_AUTH_CACHE_SIZE")

    group_commit_wait_ms: float = Field(2.0, alias="CVG_GROUP_COMMIT_WAIT_MS")
    group_commit_max: int = Field(200, alias="CVG_GROUP_COMMIT_MAX")
    group_commit_workers: int = Field(4, alias="CVG_GROUP_COMMIT_WORKERS")

    # Token bucket per datasource token or API key (api/ratelimit.py); 0 = off.
    rate_limit_per_second: float = Field(0.0, ge=0, alias="CVG_RATE_LIMIT_PER_SECOND")
    rate_limit_burst: int = Field(0, ge=0, alias="CVG_RATE_LIMIT_BURST",
                                  description="Bucket size; 0 = one second's worth")

    cypher_dir: Path = Field(
        Path(__file__).resolve().parents[2] / "cypher", alias="CVG_CYPHER_DIR"
    )

    @property
    def neo4j_auth(self) -> tuple[str, str] | None:
        return (self.neo4j_user, self.neo4j_password) if self.neo4j_password else None
