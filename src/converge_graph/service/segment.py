"""Segment's Tracking API messages as writes of the one input pipeline (docs/segment.md).

Each message (identify, track, page, screen, group, alias) becomes a :class:`Write`;
nothing here resolves identity. The mapping, the cases it refuses and why:

* ``userId`` → ``urn:user_id:``; ``anonymousId`` → ``urn:anonymous_id:`` (a device id:
  lowest priority, unlimited, like the browser cookie); ``traits.email`` /
  ``context.traits.email`` (and ``phone``) → ``urn:email:`` / ``urn:phone:``, normalised
  by the pipeline like any alias. A message with neither id can never be attributed:
  refused.
* Every message is stored as an event with ``messageId`` as its ``event_id`` (a client's
  retry is stored once): track → its ``event``; page / screen → ``Viewed <name> Page`` /
  ``Viewed <name> Screen``, or ``Page Viewed`` / ``Screen Viewed`` without a name;
  identify, group, alias → ``Identify``, ``Group``, ``Alias``. The event's properties
  are the message's ``properties`` (group: ``groupId`` and ``traits``) and, under
  ``$segment``, every other field of the message verbatim (context, name, category,
  traits, ids, timestamps): nothing is lost.
* identify's ``context.traits`` then ``traits`` → profile properties, keys verbatim.
* alias ``previousId`` → ``userId``: the previous id is a user id when a profile holds it
  as one, else an anonymous id. Two user ids in one write obey the ``user_id`` limit (1):
  a rename is refused and reported under ``/v1/conflicts``, never merged.
* ``groupId`` is never a person alias.
* Time: ``receivedAt - (sentAt - originalTimestamp)`` when the client says when it sent
  (Segment's clock-skew correction), else ``timestamp``, else the time it arrived.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from converge_graph.models import MAX_DEPTH, _check_tree
from converge_graph.service.ingest import Rejection, Write

if TYPE_CHECKING:
    from converge_graph.store.graph import Graph

TYPES = ("identify", "track", "page", "screen", "group", "alias")
MAX_ID_LEN = 512
MAX_MESSAGE_ID_LEN = 256
MAX_NAME_LEN = 256
FIXED_NAMES = {"identify": "Identify", "group": "Group", "alias": "Alias"}
CONTACT_TRAITS = ("email", "phone")


class Refused(Exception):
    """One message that can never be stored as sent; becomes a :class:`Rejection`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _id(message: dict[str, Any], key: str) -> str | None:
    """A Segment id as text: strings and numbers are ids, anything else is a client bug."""
    value = message.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Refused(key, f"{key} must be a string (or a number), e.g. 'user-42'")
    text = str(value).strip()
    if not 1 <= len(text) <= MAX_ID_LEN:
        raise Refused(key, f"{key} must be 1 to {MAX_ID_LEN} characters after trimming")
    return text


def _object(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Refused(key, f"{key} must be a JSON object, e.g. {{\"plan\": \"pro\"}}")
    return value


def parse_time(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time; without a zone it is UTC, as Segment reads it."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Refused(field, f"{field} must be an ISO 8601 string, e.g. "
                      "'2026-01-31T12:00:00.000Z'")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Refused(field, f"{field} {value[:40]!r} is not an ISO 8601 time, e.g. "
                      "'2026-01-31T12:00:00.000Z'") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise Refused(field, f"{field} is out of range once converted to UTC") from None


def event_time(message: dict[str, Any], received_at: datetime) -> datetime:
    original = parse_time(message.get("originalTimestamp"), "originalTimestamp") or \
        parse_time(message.get("timestamp"), "timestamp")
    sent = parse_time(message.get("sentAt"), "sentAt")
    if original is not None and sent is not None:
        try:
            return received_at - (sent - original)
        except OverflowError:
            raise Refused("sentAt", "sentAt and timestamp are too far apart") from None
    return original or received_at


def _name(message: dict[str, Any], kind: str) -> str:
    if kind == "track":
        event = message.get("event")
        if not isinstance(event, str) or not event.strip():
            raise Refused("event", "a track message needs 'event', the name of what "
                          "happened, e.g. 'Order Completed'")
        name = event.strip()
    elif kind in ("page", "screen"):
        title = message.get("name")
        title = title.strip() if isinstance(title, str) else ""
        name = f"Viewed {title} {kind.title()}" if title else f"{kind.title()} Viewed"
    else:
        name = FIXED_NAMES[kind]
    if len(name) > MAX_NAME_LEN:
        raise Refused("event" if kind == "track" else "name",
                      f"the event name may have at most {MAX_NAME_LEN} characters")
    return name


def _contact_aliases(*trait_sets: dict[str, Any]) -> list[str]:
    urns: list[str] = []
    for traits in trait_sets:
        for key in CONTACT_TRAITS:
            value = traits.get(key)
            if isinstance(value, str) and value.strip():
                urn = f"urn:{key}:{value.strip()}"
                if urn not in urns:
                    urns.append(urn)
    return urns


def segment_write(source: dict[str, Any], message: Any, received_at: datetime, *,
                  previous_is_user: bool = False) -> Write | Rejection:
    """One Segment message as a write, or why it can never be stored.
    ``previous_is_user``: an alias's previousId is held as a user id (see the module doc)."""
    try:
        return _write(source, message, received_at, previous_is_user)
    except Refused as exc:
        return Rejection(exc.field, exc.message)


def _write(source: dict[str, Any], message: Any, received_at: datetime,
           previous_is_user: bool) -> Write:
    if not isinstance(message, dict):
        raise Refused("message", "each message must be a JSON object with a 'type'")
    kind = message.get("type")
    if kind not in TYPES:
        raise Refused("type", f"type {str(kind)[:40]!r} is not one of {', '.join(TYPES)}")
    user_id, anonymous_id = _id(message, "userId"), _id(message, "anonymousId")
    aliases: list[str] = []
    if kind == "alias":
        previous = _id(message, "previousId")
        if user_id is None or previous is None:
            raise Refused("userId" if user_id is None else "previousId",
                          "an alias message needs both 'previousId' and 'userId'")
        aliases.append(f"urn:{'user_id' if previous_is_user else 'anonymous_id'}:{previous}")
    elif user_id is None and anonymous_id is None:
        raise Refused("userId", "a message needs 'userId' or 'anonymousId' (or both) to say "
                      "who it is about")
    if user_id is not None:
        aliases.append(f"urn:user_id:{user_id}")
    if anonymous_id is not None:
        aliases.append(f"urn:anonymous_id:{anonymous_id}")
    context = _object(message, "context")
    context_traits = context.get("traits") if isinstance(context.get("traits"), dict) else {}
    traits = _object(message, "traits")
    aliases += _contact_aliases(traits, context_traits)

    if kind == "group":
        group_id = _id(message, "groupId")
        if group_id is None:
            raise Refused("groupId", "a group message needs 'groupId'")
        properties: dict[str, Any] = {"groupId": group_id, "traits": traits}
    else:
        properties = dict(_object(message, "properties"))
    properties["$segment"] = {k: v for k, v in message.items()
                              if k not in ("properties", "writeKey")}
    profile_properties = {**context_traits, **traits} if kind == "identify" else {}
    event_id = message.get("messageId")
    if event_id is not None:
        if isinstance(event_id, bool) or not isinstance(event_id, str | int):
            raise Refused("messageId", "messageId must be a string, e.g. a UUID")
        event_id = str(event_id).strip()
        if len(event_id) > MAX_MESSAGE_ID_LEN:
            raise Refused("messageId", f"messageId may have at most {MAX_MESSAGE_ID_LEN} "
                          "characters")
    for field, tree in (("properties", properties), ("traits", profile_properties)):
        try:
            _check_tree(tree, field, 1)
        except ValueError as exc:
            raise Refused(field, f"{exc} (at most {MAX_DEPTH} levels, counting $segment)"
                          ) from None
    return Write(source=source, method="track", event_name=_name(message, kind),
                 properties=properties, profile_properties=profile_properties,
                 event_id=event_id or None, aliases=aliases,
                 timestamp=event_time(message, received_at))


def message_size(message: Any) -> int:
    """Bytes of a message as JSON, compact: at most what the client itself counted."""
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())


class Segment:
    """Segment use cases; mixed into :class:`converge_graph.service.Service`."""

    graph: Graph

    def segment_writes(self, source: dict[str, Any], messages: list[Any],
                       received_at: datetime) -> list[Write | Rejection]:
        """The messages of one request, in order. An alias's previousId counts as a user
        id when a stored profile holds it as one or an earlier message of this request
        names it as its userId."""
        named: set[str] = set()
        out: list[Write | Rejection] = []
        for message in messages:
            previous_is_user = False
            if isinstance(message, dict) and message.get("type") == "alias":
                previous = message.get("previousId")
                if isinstance(previous, str | int) and not isinstance(previous, bool):
                    text = str(previous).strip()
                    previous_is_user = text in named or (
                        bool(text) and len(text) <= MAX_ID_LEN
                        and self.graph.cluster_by_alias(
                            f"urn:user_id:{text}", self.policy.device_types) is not None)
            write = segment_write(source, message, received_at,
                                  previous_is_user=previous_is_user)
            if isinstance(write, Write) and isinstance(message, dict):
                user = message.get("userId")
                if isinstance(user, str | int) and not isinstance(user, bool):
                    named.add(str(user).strip())
            out.append(write)
        return out
