"""Use cases shared by the API and the CLI: ingest, reads, merges, sources and keys,
destinations and their deliveries.

``api/`` and ``cli/`` call these; only these call ``store/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from converge_graph.core.batch import Delta
from converge_graph.core.cypher import load_library
from converge_graph.core.policy import Policy
from converge_graph.service.admin import Admin
from converge_graph.service.destinations import Destinations
from converge_graph.service.ingest import Ingest, Write
from converge_graph.service.reads import Reads
from converge_graph.service.segment import Segment
from converge_graph.service.sources import SCOPES, AuthCache, Sources, utcnow
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph, connect

__all__ = ["SCOPES", "Service", "Write", "utcnow"]


class Service(Ingest, Segment, Sources, Reads, Admin, Destinations):
    def __init__(self, graph: Graph, settings: Settings, policy: Policy) -> None:
        self.graph = graph
        self.settings = settings
        self.policy = policy
        self._auth_cache = AuthCache(settings.auth_cache_size)
        # Called after each committed ingest with its results and what it wrote (metrics).
        self.observers: list[Callable[[list[dict[str, Any]], Delta], None]] = []
        # The analysts' cluster query, so API links open Browser on exactly that query.
        self.browser_query = load_library(settings.cypher_dir / "queries")["browser_cluster"]

    @classmethod
    def open(cls, settings: Settings, policy: Policy | None = None) -> Service:
        """A service on a new driver (one per process); :meth:`close` closes it. Loads every
        query file, so a bad one fails here."""
        driver = connect(settings)
        try:
            graph = Graph(driver, settings)
            return cls(graph, settings, policy or Policy.load(settings.policy_file))
        except BaseException:
            driver.close()
            raise

    def close(self) -> None:
        self.graph.close()
