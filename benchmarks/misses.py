"""What the false merges of a replay are, by kind (benchmarks/README.md, "Shared devices,
and what is left").

    .venv/bin/python benchmarks/misses.py --seeds 2026,42
    .venv/bin/python benchmarks/misses.py --seeds 7 --policy benchmarks/policies/one-email.toml

Each event in a cluster whose person is not the cluster's majority person is counted with
the majority person's events it is wrongly paired with, under one of:

- ``U``  an unknowable event (a guest's anonymous page view no identity of theirs ever
  reaches): nothing at write time can place it; the truth-aware ideal misplaces it too;
- ``A``  an anonymous event on a device before the majority person first used it: the
  owner's anonymous history, taken by the guest's later login;
- ``D1`` an anonymous event after the majority person's first use of the device, by a
  person who had identified on it before: the owner's use after a guest's hand-over;
- ``D2`` the same by a person who had not: the owner's use after a guest's first login;
- ``other`` an identified write, or a device the majority person never used.

The classes read the generator's ground truth, so they explain a seed's misses; no rule
may use them. Pairs between two minority persons of one cluster are not classified, so
the classified total can be slightly below the exact count of false pairs printed beside.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from generate import Item, generate_events
from quality import pairwise
from replay import prepare, resolve

from converge_graph.core.batch import Prepared
from converge_graph.core.policy import Policy

LOGIN_TYPES = {"customer_id", "email", "phone", "user_id", "checkout"}


def classify(items: list[Item], prepared: list[Prepared], labels: list[str]) -> Counter:
    """False pairs by kind (see the module's docstring)."""
    first_use: dict[tuple[str, int], object] = {}  # (device, person) -> first write's time
    identified: dict[tuple[str, int], list] = defaultdict(list)  # -> times of logins on it
    for item, write in zip(items, prepared, strict=True):
        logs_in = any(a.type in LOGIN_TYPES for a in write.aliases)
        for alias in write.aliases:
            if alias.type == "cookie":
                first_use.setdefault((alias.urn, item.person), write.ts)
                if logs_in:
                    identified[(alias.urn, item.person)].append(write.ts)
    members: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        members[label].append(index)
    kinds: Counter = Counter()
    for indexes in members.values():
        persons = Counter(items[i].person for i in indexes)
        if len(persons) < 2:
            continue
        majority, wrong = persons.most_common(1)[0]
        for i in indexes:
            item, write = items[i], prepared[i]
            if item.person != majority:
                kinds[_kind(item, write, majority, first_use, identified)] += wrong
    return kinds


def _kind(item: Item, write: Prepared, majority: int, first_use: dict, identified: dict) -> str:
    if item.unknowable:
        return "U"
    devices = [a.urn for a in write.aliases if a.type == "cookie"]
    if not devices or any(a.type in LOGIN_TYPES - {"checkout"} for a in write.aliases):
        return "other"
    device = devices[0]
    owner_since = first_use.get((device, majority))
    if owner_since is None:
        return "other"
    if write.ts < owner_since:
        return "A"
    if any(t < owner_since for t in identified.get((device, item.person), [])):
        return "D1"
    return "D2"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="7", help="comma-separated generator seeds")
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--policy", type=Path, default=None, help="a policy file (default policy)")
    args = ap.parse_args()
    policy = Policy.load(args.policy)
    kinds_order = ("U", "A", "D1", "D2", "other")
    print("seed   P        false pairs  1 % line  by kind: " + " ".join(
        f"{k:>6}" for k in kinds_order))
    for seed in (int(s) for s in args.seeds.split(",")):
        items = generate_events(args.events, seed)
        prepared = prepare(items, policy)
        labels, _ = resolve(prepared, policy)
        score = pairwise([i.person for i in items], labels)
        false = round(score["predicted_pairs"] * (1 - score["precision"]))
        kinds = classify(items, prepared, labels)
        line = score["predicted_pairs"] // 100
        print(f"{seed:<6} {score['precision']:.5f}  {false:>11,}  {line:>8,}           "
              + " ".join(f"{kinds[k]:>6,}" for k in kinds_order))


if __name__ == "__main__":
    main()
