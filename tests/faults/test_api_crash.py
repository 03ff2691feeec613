"""The API killed mid-load (README.md#reliability): SIGKILL, no shutdown, requests cut mid-flight.

Whatever was queued for a group commit or in a transaction dies with the process; the
clients see broken connections and retry with the same event_id once the API is back on
its port. Afterwards every acknowledged event is in the graph exactly once, and the
writes that committed unanswered are the ones the retries found deduplicated.
"""

from __future__ import annotations

import time
import uuid

from tests.faults.conftest import audit, mismatched_clusters, record
from tests.faults.load import Load
from tests.procs import ApiProcess


def test_api_killed_mid_load_loses_no_acknowledged_event(fault_db, tmp_path):
    db = fault_db
    phases: dict[str, float] = {}
    t0 = time.monotonic()
    api = ApiProcess(db.server.uri, tmp_path / "api.log").start()
    load = Load(api.base, db.token, run=f"kill-api-{uuid.uuid4().hex[:8]}",
                clients=6, per_client=60)
    try:
        load.start()
        load.wait_acked(60, timeout=90)
        phases["first_acks"] = time.monotonic() - t0
        first_pid = api.pid
        api.kill()
        acked_at_kill = load.acked_count()
        time.sleep(1.0)  # clients hit a closed port meanwhile
        api.start()
        phases["restarted"] = time.monotonic() - t0
        assert api.pid != first_pid
        assert load.join(timeout=180), "clients did not finish within 180 s"
        phases["clients_done"] = time.monotonic() - t0
    finally:
        load.stop()
        api.stop()

    counts = audit(db, load)
    record("API SIGKILL + restart", counts, acknowledged_before_kill=acked_at_kill,
           phases={k: round(v, 1) for k, v in phases.items()})
    assert sum(counts["transport_errors"].values()) > 0, "the clients never saw the crash"
    assert "500" not in counts["statuses"] and counts["unexpected"] == []
    assert counts["503_without_retry_after"] == 0
    assert counts["given_up"] == 0
    assert counts["acknowledged"] == counts["sent"] == 360
    assert counts["acknowledged_missing"] == []
    assert counts["present"] == counts["sent"] and counts["not_sent_but_present"] == []
    assert counts["duplicates"] == 0
    assert counts["events_without_one_performer_and_source"] == []
    assert mismatched_clusters(db) == 0
