"""Runtime configuration: the only module that reads the environment.

Every setting can be given as an environment variable (names in upper case,
e.g. ``NEO4J_URI``, ``API_PORT``, ``CVG_DEFAULT_REGION``) or in a ``.env`` file.

Without ``NEO4J_URI`` and ``NEO4J_PASSWORD``, the CLI and the API use the local server that
``make run`` started (``scripts/neo4j_local.py``, instance folder ``CVG_LOCAL_NEO4J_HOME``,
by default the repository's ``.neo4j/run``): its Bolt port and its generated password. What
the environment sets always wins, and that password is only ever sent to that server.
Matching policy (priorities, limits, block lists) is not runtime config: it
lives in :mod:`converge_graph.core.policy` and may be loaded from ``CVG_POLICY_FILE``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Self

from pydantic import Field, PrivateAttr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    neo4j_uri: str = Field("bolt://127.0.0.1:7687", alias="NEO4J_URI")
    neo4j_user: str = Field("neo4j", alias="NEO4J_USER")
    neo4j_password: str = Field("", alias="NEO4J_PASSWORD")
    neo4j_database: str = Field("neo4j", alias="NEO4J_DATABASE")
    # How long the driver retries a transaction (deadlocks, a restarting server) before a
    # request answers 503: short, so clients see Retry-After rather than their own timeout.
    neo4j_retry_seconds: float = Field(5.0, gt=0, alias="CVG_NEO4J_RETRY_SECONDS")
    # The `make run` server's folder (scripts/neo4j_local.py): instance.json, password.
    local_neo4j_home: Path = Field(REPO_ROOT / ".neo4j" / "run", alias="CVG_LOCAL_NEO4J_HOME")
    # Where neo4j_password came from, for error messages; never the password itself.
    _password_source: str = PrivateAttr("NEO4J_PASSWORD")

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

    # Group commit (service/commit.py): under load, how long to gather more writes.
    group_commit_wait_ms: float = Field(2.0, ge=0, alias="CVG_GROUP_COMMIT_WAIT_MS")
    group_commit_max: int = Field(500, alias="CVG_GROUP_COMMIT_MAX")
    group_commit_workers: int = Field(1, alias="CVG_GROUP_COMMIT_WORKERS")

    # Token bucket per datasource token or API key (api/ratelimit.py); 0 = off.
    rate_limit_per_second: float = Field(0.0, ge=0, alias="CVG_RATE_LIMIT_PER_SECOND")
    rate_limit_burst: int = Field(0, ge=0, alias="CVG_RATE_LIMIT_BURST",
                                  description="Bucket size; 0 = one second's worth")

    # Destinations (docs/destinations.md): delivery workers run inside `serve` unless 0;
    # `converge-graph deliver` runs them as a process of their own.
    delivery_workers: int = Field(2, ge=0, alias="CVG_DELIVERY_WORKERS")
    delivery_batch: int = Field(16, ge=1, alias="CVG_DELIVERY_BATCH",
                                description="Items one worker claims and sends in parallel")
    delivery_poll_seconds: float = Field(1.0, gt=0, alias="CVG_DELIVERY_POLL_SECONDS")
    delivery_timeout_seconds: float = Field(10.0, gt=0, alias="CVG_DELIVERY_TIMEOUT_SECONDS")
    # A claimed item is a worker's until its lease ends; a crashed worker's items are
    # claimed again after it. Longer than the HTTP timeout, so a live send keeps its lease.
    delivery_lease_seconds: float = Field(60.0, gt=0, alias="CVG_DELIVERY_LEASE_SECONDS")
    # Retries: first after ~retry_first_seconds, doubling (with jitter), at most
    # retry_max_seconds apart, until retry_window_seconds after the item was recorded.
    retry_first_seconds: float = Field(1.0, gt=0, alias="CVG_RETRY_FIRST_SECONDS")
    retry_max_seconds: float = Field(600.0, gt=0, alias="CVG_RETRY_MAX_SECONDS")
    retry_window_seconds: float = Field(24 * 3600.0, gt=0, alias="CVG_RETRY_WINDOW_SECONDS")

    cypher_dir: Path = Field(
        Path(__file__).resolve().parents[2] / "cypher", alias="CVG_CYPHER_DIR"
    )

    @model_validator(mode="after")
    def _use_the_local_server(self) -> Self:
        """Fill what the environment left unset from the `make run` server, if there is one."""
        given = self.model_fields_set
        home = self.local_neo4j_home
        try:
            instance = json.loads((home / "instance.json").read_text())
        except (OSError, ValueError):
            instance = {}
        local_uri = f"bolt://127.0.0.1:{instance.get('bolt_port', 7687)}"
        if "neo4j_uri" not in given and "bolt_port" in instance:
            self.neo4j_uri = local_uri
        at_local = self.neo4j_uri == local_uri
        if "browser_url" not in given and "http_port" in instance and at_local:
            self.browser_url = f"http://localhost:{instance['http_port']}/browser/"
        if "neo4j_password" in given:
            return self
        password_file = home / "password"
        if not at_local or self.neo4j_user != "neo4j":
            self._password_source = f"none (NEO4J_PASSWORD is unset; {password_file} is " \
                                    f"for {local_uri} only)"
        elif not instance.get("auth", True):
            self._password_source = f"none (the local server in {home} runs without auth)"
        elif password := _read_text(password_file):
            self.neo4j_password = password
            self._password_source = str(password_file)
        else:
            self._password_source = f"none (NEO4J_PASSWORD is unset and {password_file} " \
                                    "does not exist: run `make run` or set NEO4J_PASSWORD)"
        return self

    @property
    def neo4j_password_source(self) -> str:
        """Where the password came from, for error messages (never the password itself)."""
        return self._password_source

    @property
    def neo4j_auth(self) -> tuple[str, str] | None:
        return (self.neo4j_user, self.neo4j_password) if self.neo4j_password else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
