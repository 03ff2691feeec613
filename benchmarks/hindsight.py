"""What hindsight would buy: the replay's outcome rewritten after the fact, three ways.

The figures behind docs/identity.md#device-hand-over ("What it cannot catch"). Each
rewrites the in-memory replay's labels (``replay.py``), never the resolver:

- ``stitch``: the anonymous events of a login's own session on that device (no gap over
  the window) go to the login's cluster — session stitching, decided at login time;
- ``rehome``: a device's anonymous events from more than the window after its last login
  go to whoever the device is next handed over to (if it is);
- ``split``: the SAME_AS links made only through devices that later changed hands are
  undone (components recomputed over the other links).

    python benchmarks/hindsight.py --seeds 7,11 [--window 30]

The replay runs with the resolver's own session stitching off (``session_minutes = 0``),
so that ``stitch`` here is what the resolver's case 10 now does at write time, and the
other two are measured against the same starting point as before.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_events  # noqa: E402
from replay import prepare, resolve, scores  # noqa: E402

from converge_graph.core.batch import Overlay, Prepared  # noqa: E402
from converge_graph.core.policy import Policy  # noqa: E402


def split(overlay: Overlay, profiles: list[str]) -> list[str]:
    handed = {c["alias"] for c in overlay.conflicts if c["kind"] == "device_handover"}
    parent = {p: p for p in overlay.nb.profile_cluster}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in overlay.links:
        if not (link["via"] and all(v in handed for v in link["via"])):
            parent[find(link["from"])] = find(link["to"])
    return [find(p) for p in profiles]


def rehome(prepared: list[Prepared], results: list[dict], labels: list[str], policy: Policy,
           window: timedelta) -> list[str]:
    out, last_login, pending = list(labels), {}, {}
    for i, (w, r) in enumerate(zip(prepared, results, strict=True)):
        handed = {x["alias"] for x in r["ignored_aliases"]
                  if x["reason"].startswith("device_handover")}
        login = any(a.type in policy.handover_types for a in w.aliases)
        for d in (a.urn for a in w.aliases if a.type in policy.device_types):
            if d in handed:
                for j in pending.get(d, []):
                    out[j] = labels[i]
            if login:
                last_login[d], pending[d] = w.ts, []
            elif d in last_login and w.ts - last_login[d] > window:
                pending.setdefault(d, []).append(i)
    return out


def stitch(prepared: list[Prepared], labels: list[str], policy: Policy, window: timedelta
           ) -> list[str]:
    out, session = list(labels), {}
    for i, w in enumerate(prepared):
        login = any(a.type in policy.handover_types for a in w.aliases)
        for d in (a.urn for a in w.aliases if a.type == "cookie"):
            chain = session.setdefault(d, [])
            if chain and w.ts - prepared[chain[-1]].ts > window:
                chain.clear()
            if login:
                for j in chain:
                    out[j] = out[i]
                chain.clear()
            else:
                chain.append(i)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="7,11")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--window", type=float, default=30, help="session window, minutes")
    args = parser.parse_args()
    policy, window = Policy(session_minutes=0), timedelta(minutes=args.window)
    for seed in (int(s) for s in args.seeds.split(",")):
        items = generate_events(args.events, seed)
        prepared = prepare(items, policy)
        labels, overlay, results = resolve(prepared, policy, with_results=True)
        profiles = [r["profile_id"] for r in results]
        split_labels = split(overlay, profiles)
        variants = {
            "as is": labels,
            "stitch": stitch(prepared, labels, policy, window),
            "rehome": rehome(prepared, results, labels, policy, window),
            "split": split_labels,
            "all three": stitch(prepared, rehome(prepared, results, split_labels, policy,
                                                 window), policy, window),
        }
        line = " | ".join(f"{name} P {q['precision']:.4f} R {q['recall']:.4f}"
                          for name, q in ((n, scores(items, v)) for n, v in variants.items()))
        print(f"seed {seed}: {line}")


if __name__ == "__main__":
    main()
