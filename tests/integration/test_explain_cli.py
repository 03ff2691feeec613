"""`converge-graph explain` between two profiles that a rule kept apart: it names the rule
(docs/identity.md#explain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from converge_graph.core.policy import Policy
from converge_graph.service import Service, Write
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph
from tests.integration.test_policy_check_cli import cli  # noqa: F401  (the fixture)

T0 = datetime(2025, 3, 1, tzinfo=UTC)
LAPTOP = "urn:cookie:owners-laptop"
VISITOR = "urn:customer_id:visitor-5"


def test_explain_says_a_known_visitors_first_login_kept_the_owners_history_apart(
        cli, clean: Graph, neo4j_settings: Settings):  # noqa: F811
    service = Service(clean, neo4j_settings, Policy())
    hook = service.add_source("shop", "webhook")

    def track(*aliases: str, minutes: float, event_id: str) -> dict:
        return service.ingest(Write(source=hook, method="track", event_name="E",
                                    event_id=event_id, aliases=list(aliases),
                                    timestamp=T0 + timedelta(minutes=minutes)))

    track(VISITOR, "urn:cookie:visitors-phone", minutes=0, event_id="phone")
    owner = track(LAPTOP, minutes=60, event_id="owner-browses")
    track(LAPTOP, minutes=24 * 60, event_id="visitor-views")
    login = track(VISITOR, LAPTOP, minutes=24 * 60 + 2, event_id="visitor-login")

    out = cli("explain", login["cluster_id"], "--from", login["profile_id"],
              "--to", owner["profile_id"], code=0)
    text = " ".join(out.split())
    assert f"not joined: {LAPTOP} gave the login its session only" in text
    assert "(event visitor-login): first_login:" in text
