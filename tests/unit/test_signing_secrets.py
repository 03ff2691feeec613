"""Which signing secrets a web source accepts, and how a grace window is written
(docs/security.md#rotating-the-signing-secret)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer

from converge_graph.cli.secrets import parse_grace
from converge_graph.core.trust import accepted_secrets

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def rotated(until: datetime | None) -> dict:
    return {"signing_secret": "new", "previous_signing_secret": "old",
            "previous_signing_secret_until": until}


def test_a_source_without_a_secret_accepts_none():
    assert accepted_secrets({"signing_secret": None}, NOW) == []


def test_the_replaced_secret_is_accepted_until_its_window_ends_and_not_at_its_end():
    assert accepted_secrets(rotated(NOW + timedelta(seconds=1)), NOW) == ["new", "old"]
    assert accepted_secrets(rotated(NOW), NOW) == ["new"]
    assert accepted_secrets(rotated(None), NOW) == ["new"]


@pytest.mark.parametrize(("text", "window"), [
    ("24h", timedelta(hours=24)), ("90m", timedelta(minutes=90)),
    ("1h30m", timedelta(hours=1, minutes=30)), ("7D", timedelta(days=7)),
    ("0", timedelta(0)), ("45s", timedelta(seconds=45)),
])
def test_grace_windows_are_written_as_durations(text, window):
    assert parse_grace(text) == window


@pytest.mark.parametrize("text", ["", "24", "h", "3 weeks", "1h 30m", "-1h", "1.5h", "2w"])
def test_anything_else_is_refused_with_examples(text):
    with pytest.raises(typer.BadParameter, match="24h, 90m, 1h30m, 7d"):
        parse_grace(text)
