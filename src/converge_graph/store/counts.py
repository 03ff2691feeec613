"""Whole-graph counts for reports (the import summary): count-store reads, no scans."""

from __future__ import annotations

from neo4j import ManagedTransaction

from converge_graph.store.graph import Graph
from converge_graph.store.queries import Queries


class Counts:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.q = Queries(graph.q.folder, ("count_same_as",))

    def same_as_links(self) -> int:
        def work(tx: ManagedTransaction) -> int:
            return tx.run(self.q.count_same_as).single(strict=True)["links"]

        return self.graph.read(work)
