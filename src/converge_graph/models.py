"""Request and response models: the API's contract (docs/api.md)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

MAX_KEY_LEN = 256
MAX_DEPTH = 10


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # json.loads lets "\ud800" through; Neo4j and every response would fail on it later.
        raise ValueError(
            f"{path} holds a lone UTF-16 surrogate; send valid Unicode text"
        ) from None


def _check_tree(value: Any, path: str, depth: int) -> None:
    """``depth`` counts the objects and arrays enclosing ``value``'s children, its own included."""
    if isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            raise ValueError(
                f"{path} is nested {depth} levels deep; at most {MAX_DEPTH} levels are allowed"
            )
        if isinstance(value, dict):
            for key, child in value.items():
                if len(key) > MAX_KEY_LEN:
                    raise ValueError(
                        f"key {key[:40]!r}… under {path} is {len(key)} characters; "
                        f"keys may have at most {MAX_KEY_LEN}"
                    )
                _check_text(key, f"a key under {path}")
                _check_tree(child, f"{path}.{key}", depth + 1)
        else:
            for index, child in enumerate(value):
                _check_tree(child, f"{path}[{index}]", depth + 1)
    elif isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path} is {value}; JSON numbers must be finite")


def _checked_properties(value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    _check_tree(value, info.field_name or "properties", 1)
    return value


def _checked_text(value: str) -> str:
    _check_text(value, "the text")
    return value


Properties = Annotated[dict[str, Any], AfterValidator(_checked_properties)]
# Every string a write carries is checked, aliases included: one unencodable string would
# otherwise fail the whole group-committed transaction it shares with other requests.
Text = Annotated[str, AfterValidator(_checked_text)]
EventId = str | int | None


def _epoch_seconds(value: Any) -> Any:
    """Numbers are UTC epoch seconds (never milliseconds, whatever their size)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("timestamp is not a valid number of UTC epoch seconds") from None
    return value


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is past the last UTC datetime
        raise ValueError("timestamp is out of range once converted to UTC") from None


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("timestamp", mode="before", check_fields=False)
    @classmethod
    def _epoch_ts(cls, value: Any) -> Any:
        return _epoch_seconds(value)

    @field_validator("timestamp", check_fields=False)
    @classmethod
    def _utc_ts(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @field_validator("event_id", "eventID", mode="before", check_fields=False)
    @classmethod
    def _event_id_text(cls, value: Any, info: ValidationInfo) -> str | None:
        # Before the str | int union, so that an error names the field, not a union member.
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("an event id must be a string (or an integer), e.g. 'X01'")
        text = str(value).strip()
        _check_text(text, info.field_name or "event_id")
        if len(text) > 256:
            raise ValueError("event ids may have at most 256 characters")
        return text


class WebhookEvent(_Write):
    """One server-side event, exactly the seed's Python shape."""

    # method first: the event_name check below reads it.
    method: Literal["track", "forward", "set"] = "track"
    event_name: Text | None = Field(None, min_length=1, max_length=256, validate_default=True)
    properties: Properties = Field(default_factory=dict)
    profile_properties: Properties = Field(default_factory=dict)
    event_id: EventId = Field(None, description="Deduplication key, unique across datasources")
    aliases: list[Text] = Field(default_factory=list, description="urn:<type>:<value> strings")
    timestamp: AwareDatetime | None = Field(
        None, description="ISO 8601 with a zone, or UTC epoch seconds"
    )

    @field_validator("event_name")
    @classmethod
    def _needs_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("method", "track") != "set" and not value:
            raise ValueError(
                "event_name is required for method 'track' and 'forward' "
                "(use method 'set' to only set aliases and profile properties)"
            )
        return value


class CollectEvent(_Write):
    """One browser call, exactly the seed's JavaScript shape."""

    method: Literal["track", "forward", "set", "consent"] = "track"
    eventName: Text | None = Field(None, min_length=1, max_length=256, validate_default=True)
    properties: Properties = Field(default_factory=dict)
    profileProperties: Properties = Field(default_factory=dict)
    eventID: EventId = None
    aliases: list[Text] = Field(default_factory=list)
    cookieId: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")
    timestamp: AwareDatetime | None = None
    analytics: Literal["granted", "denied"] | None = None
    marketing: Literal["granted", "denied"] | None = None
    signatures: dict[str, Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]] = Field(
        default_factory=dict, max_length=10,
        description="alias URN -> hex HMAC-SHA256 of that URN with the web source's signing "
                    "secret, computed by the shop's backend (docs/security.md); strong ids "
                    "such as urn:customer_id:… count from the browser only when signed")

    @field_validator("eventName")
    @classmethod
    def _needs_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("method", "track") in ("track", "forward") and not value:
            raise ValueError(
                "eventName is required for method 'track' and 'forward' "
                "(use method 'set' to only set aliases and profile properties)"
            )
        return value

    @model_validator(mode="after")
    def _needs_consent(self) -> CollectEvent:
        if self.method == "consent" and self.analytics is None and self.marketing is None:
            raise ValueError("consent needs 'analytics' and/or 'marketing': 'granted' or 'denied'")
        return self


class WebhookBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[dict[str, Any]] = Field(..., description="Webhook events, as for one event")


class IgnoredAlias(BaseModel):
    alias: str
    reason: str


class WriteResult(BaseModel):
    event_id: str | None
    deduplicated: bool
    profile_id: str
    cluster_id: str
    ignored_aliases: list[IgnoredAlias]


class CollectResult(BaseModel):
    """The browser's answer: only its own id. The web token is public, so anything more
    (cluster or profile ids, dedup, why an alias was ignored) would tell any page whether
    someone else holds an alias or an event id (docs/security.md#input-hygiene-and-limits)."""

    model_config = ConfigDict(extra="forbid")
    cookie_id: str


class BatchResult(BaseModel):
    results: list[dict[str, Any]]


class ProfilePublic(BaseModel):
    profile_id: str
    cluster_id: str | None = None
    aliases: list[str]
    properties: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class LinkPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    via: list[str]
    reason: str
    event_id: str | None
    created_at: datetime
    trust: Literal["trusted", "signed", "claim"] = Field(
        "trusted", description="where the evidence came from (docs/security.md)")


class ClusterPublic(BaseModel):
    cluster_id: str
    profiles: list[ProfilePublic]
    aliases: list[str]
    links: list[LinkPublic]
    merged_properties: dict[str, Any] | None = Field(
        description="The whole cluster's; on the first page only (null on later pages)")
    event_count: int
    first_seen: datetime | None
    last_seen: datetime | None
    profile_count: int = Field(description="All the cluster's profiles, not just this page's")
    link_count: int = Field(description="All the cluster's SAME_AS links")
    next: str | None = Field(None, description="Pass as ?after= for the next page of "
                                               "profiles and links; null on the last page")
    browser_url: str | None = None


class LookupQuery(BaseModel):
    """The query string of ``GET /v1/clusters/lookup``."""

    model_config = ConfigDict(extra="ignore")

    alias: str = Field(description="urn:<type>:<value>")
    limit: int = Field(100, ge=1, le=500, description="profiles and links per page")
    after: str | None = Field(None, description="the 'next' cursor of the previous page")
    trust: Literal["all", "verified"] = Field(
        "all", description="all: every link (analytics); verified: only trusted or signed "
        "evidence, what a page may be personalised with (docs/security.md#verified-reads)")


class EventPublic(BaseModel):
    event_id: str
    event_name: str | None
    method: str
    timestamp: datetime
    properties: dict[str, Any]
    profile_id: str | None
    datasource: str | None


class EventsPage(BaseModel):
    events: list[EventPublic]
    next: str | None


class EnrichedEvent(EventPublic):
    cluster_id: str | None
    received_at: datetime
    profile_properties: dict[str, Any]


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable machine-readable kind, e.g. 'invalid', 'unauthorized'")
    message: str = Field(description="What is wrong and what would be right")
    field: str | None = Field(None, description="The request field at fault, e.g. 'aliases[2]'")
    details: list[ErrorDetail] | None = Field(None, description="Every field at fault")


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx answer."""

    error: ErrorInfo


def field_path(loc: tuple | list) -> str:
    """A pydantic location as the API names fields: ``aliases[2]``, ``properties.cart``."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "body"


def describe(err: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """One pydantic error as ``{"field", "message"}``, the field under ``prefix``."""
    field = field_path(err.get("loc", ()))
    if prefix:
        field = f"{prefix}.{field}" if field != "body" else prefix
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        message = f"unknown field '{field}': remove it or check its spelling against /docs"
    elif kind == "missing":
        message = f"{field} is required"
    else:
        message = f"{field}: {err.get('msg', 'invalid').removeprefix('Value error, ')}"
    return {"field": field, "message": message}
