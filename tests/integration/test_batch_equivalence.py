"""The batch path and the one-by-one path build the same graph from the same stream:
same profiles (by their aliases), same links and evidence, same cluster partition —
also when several batches run concurrently on disjoint parts of the stream."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from converge_graph.service import Write
from tests.conftest import wipe


def stream(seed: int, n: int) -> list[dict]:
    """Browser and server writes over a small alias pool: links, merges, limits, dups."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.choice(["web", "web", "hook"])
        aliases = [f"urn:{t}:{rng.randrange(40)}" for t in
                   rng.sample(["email", "customer_id", "checkout", "cart", "device"],
                              rng.randint(0, 2))]
        aliases = [a.replace("urn:email:", "urn:email:u") + ("@shop.com" if "email" in a else "")
                   for a in aliases]
        event_id = f"o{rng.randrange(n // 3)}" if rng.random() < 0.25 else f"s{seed}-{i}"
        out.append({
            "kind": kind, "cookie": f"c{rng.randrange(60)}" if kind == "web" else None,
            "method": rng.choice(["track", "track", "set"]),
            "aliases": aliases, "event_id": event_id,
            "props": {"$plan": rng.choice(["free", "pro"])} if rng.random() < 0.3 else {},
        })
    return out


def to_writes(items: list[dict], web: dict, hook: dict) -> list[Write]:
    return [Write(
        source=web if it["kind"] == "web" else hook, method=it["method"],
        event_name="E" if it["method"] != "set" else None, aliases=list(it["aliases"]),
        event_id=it["event_id"], cookie_id=it["cookie"], profile_properties=it["props"],
    ) for it in items]


def shape(driver) -> dict:
    """The graph without its random ids: profiles named by their alias sets."""
    records, _, _ = driver.execute_query("""
        MATCH (p:Profile)
        RETURN p.profile_id AS id, p.cluster_id AS cluster, p.properties_json AS props,
               [(p)-[:HAS_ALIAS]->(a) | a.urn] AS urns,
               [(p)-[s:SAME_AS]->(q) | [q.profile_id, s.via, s.reason, s.event_id]] AS links,
               [(p)-[:PERFORMED]->(e) | e.event_id] AS events""")
    name = {r["id"]: tuple(sorted(r["urns"])) for r in records}
    clusters: dict[str, set] = {}
    for r in records:
        clusters.setdefault(r["cluster"], set()).add(name[r["id"]])
    stitches, _, _ = driver.execute_query(
        "MATCH (x:Conflict {kind: 'session_stitch'}) RETURN x.alias AS alias")
    return {
        # docs/identity.md#session-stitching: the events a login took from its device's
        # earlier person are on the login's profile above; here, on which devices
        "stitched": Counter(r["alias"] for r in stitches),
        "profiles": Counter((name[r["id"]], r["props"], tuple(sorted(r["events"])))
                            for r in records),
        "links": Counter((name[r["id"]], name[q], tuple(via), reason, eid)
                         for r in records for q, via, reason, eid in r["links"]),
        "partition": Counter(frozenset(c) for c in clusters.values()),
    }


def run(service, driver, items, batch_size: int, workers: int = 1) -> dict:
    wipe(driver)
    web, hook = service.add_source("web", "web"), service.add_source("hook", "webhook")
    writes = to_writes(items, web, hook)
    if workers == 1:
        for start in range(0, len(writes), batch_size):
            service.ingest_batch(writes[start:start + batch_size])
    else:
        chunks = [writes[i:i + batch_size] for i in range(0, len(writes), batch_size)]
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(service.ingest_batch, chunks))
    return shape(driver)


def test_one_batch_builds_the_graph_of_one_by_one_writes(service, driver):
    items = stream(seed=5, n=400)
    one_by_one = run(service, driver, items, batch_size=1)
    batched = run(service, driver, items, batch_size=400)
    assert batched == one_by_one
    assert sum(one_by_one["links"].values()) > 20  # the stream does merge things
    assert sum(one_by_one["stitched"].values()) > 0  # and logins take their sessions' events


def test_batches_of_mixed_sizes_build_the_same_graph(service, driver):
    items = stream(seed=6, n=300)
    assert run(service, driver, items, batch_size=7) == run(service, driver, items,
                                                            batch_size=1)


def test_concurrent_batches_on_disjoint_streams_equal_their_serial_run(service, driver):
    # Four independent shops (disjoint aliases) posted as concurrent batches.
    items = []
    for shop in range(4):
        for it in stream(seed=10 + shop, n=150):
            items.append({**it,
                          "aliases": [a + f"-{shop}" for a in it["aliases"]],
                          "cookie": it["cookie"] and f"{it['cookie']}-{shop}",
                          "event_id": f"{it['event_id']}-{shop}"})
    serial = run(service, driver, items, batch_size=1)
    by_shop = [it for shop in range(4) for it in items if it["event_id"].endswith(f"-{shop}")]
    concurrent = run(service, driver, by_shop, batch_size=150, workers=4)
    assert concurrent == serial
