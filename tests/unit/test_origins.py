"""Origins as a web datasource lists them: normalised as browsers send them, anything else
refused naming the flag."""

from __future__ import annotations

import pytest

from converge_graph.core.origins import normalise_origin, origin_allowed
from converge_graph.errors import InvalidInput


@pytest.mark.parametrize(("raw", "sent"), [
    ("https://shop.example", "https://shop.example"),
    ("HTTPS://Shop.Example/", "https://shop.example"),
    ("https://shop.example:443", "https://shop.example"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://[::1]:3000", "http://[::1]:3000"),
    (" https://checkout.example ", "https://checkout.example"),
])
def test_origins_are_stored_exactly_as_browsers_send_them(raw: str, sent: str) -> None:
    assert normalise_origin(raw) == sent


@pytest.mark.parametrize("raw", [
    "shop.example", "ftp://shop.example", "https://shop.example/checkout",
    "https://shop.example?x=1", "https://shop.example#top", "https://user@shop.example",
    "https://shop.example:99999", "https://", "*", "null",
])
def test_anything_but_scheme_host_port_is_refused_naming_the_flag(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_origin(raw, "--origin")
    assert caught.value.field == "--origin"
    assert caught.value.message.startswith(f"--origin {raw!r}")
    assert "scheme://host[:port]" in caught.value.message


def test_listing_no_origins_accepts_any_and_listing_narrows() -> None:
    assert origin_allowed("https://anywhere.example", [])
    assert origin_allowed("https://shop.example", ["https://shop.example"])
    assert not origin_allowed("https://evil.example", ["https://shop.example"])
