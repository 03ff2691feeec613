"""Resolution quality against ground truth: pairwise precision, recall and F1 of "same person".

The unit is the ingested event (one generated item). A pair of events is a true pair
when the generator drew both from one person, a predicted pair when they ended in
one cluster. Counted from the contingency table, never by enumerating pairs.

The baseline is naive ID stitching: connected components over every identifier two
events share (their aliases and the browser cookie), with no block list, no merge
protection and, in its plain form, no normalisation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> dict[str, Any]:
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted must label the same events")
    both = sum(_pairs(n) for n in Counter(zip(truth, predicted, strict=True)).values())
    true_pairs = sum(_pairs(n) for n in Counter(truth).values())
    predicted_pairs = sum(_pairs(n) for n in Counter(predicted).values())
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5),
            "events": len(truth), "true_pairs": true_pairs, "predicted_pairs": predicted_pairs,
            "clusters": len(set(predicted)), "persons": len(set(truth))}


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def identifiers(channel: str, payload: dict[str, Any], normalise: bool) -> list[str]:
    ids = [a for a in payload.get("aliases", []) if isinstance(a, str)]
    if channel == "web" and payload.get("cookieId"):
        ids.append(f"urn:cookie:{payload['cookieId']}")
    if normalise:  # what a careful hand-written stitcher does: trim and lower-case
        out = []
        for urn in ids:
            _, kind, value = (urn.split(":", 2) + ["", ""])[:3]
            out.append(f"urn:{kind.strip().lower()}:{value.strip().lower()}")
        return out
    return ids


def naive_components(items: Sequence[Any], normalise: bool = False) -> list[int]:
    """Per item, its component over shared identifiers (``items``: ``.channel``, ``.payload``)."""
    uf = _UnionFind(len(items))
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        for key in identifiers(item.channel, item.payload, normalise):
            uf.union(index, first.setdefault(key, index))
    return [uf.find(i) for i in range(len(items))]


def ideal_components(items: Sequence[Any]) -> list[int]:
    """The truth-aware ideal: connected components over the (trimmed, lower-cased)
    identifiers that a single person ever used in a knowable event. It reads the ground
    truth, so no resolver can do it; it misplaces only what nobody can place (a second
    person's anonymous views on a device), so what it reaches is the attainable
    (``items`` also need ``.person`` and ``.unknowable``)."""
    users: dict[str, set[Hashable]] = {}
    for item in items:
        for key in identifiers(item.channel, item.payload, True):
            users.setdefault(key, set())
            if not item.unknowable:
                users[key].add(item.person)
    uf = _UnionFind(len(items))
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        for key in identifiers(item.channel, item.payload, True):
            if len(users[key]) <= 1:
                uf.union(index, first.setdefault(key, index))
    return [uf.find(i) for i in range(len(items))]
