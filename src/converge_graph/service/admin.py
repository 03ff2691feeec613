"""Operating the service: schema, health, listings and whole-graph checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from converge_graph.core.ids import secret_hash
from converge_graph.core.verify import mismatches
from converge_graph.store.queries import Q

if TYPE_CHECKING:
    from converge_graph.store.graph import Graph


class Admin:
    """Operations use cases; mixed into :class:`converge_graph.service.Service`."""

    graph: Graph

    def apply_schema(self) -> int:
        return self.graph.apply_schema()

    def missing_schema(self) -> set[str]:
        return self.graph.missing_schema()

    def list_datasources(self) -> list[dict[str, Any]]:
        return self.graph.list_datasources()

    def datasources_named(self, name: str) -> list[dict[str, Any]]:
        return self.graph.find_datasource_by_name(name)

    def key_exists(self, key: str) -> bool:
        return self.graph.find_api_key(secret_hash(key)) is not None

    def list_conflicts(self, limit: int) -> list[dict[str, Any]]:
        return self.graph.list_conflicts(limit)

    def clusters_over(self, unlimited: list[str], min_count: int) -> list[dict[str, Any]]:
        """Clusters holding at least ``min_count`` values of one alias type not in
        ``unlimited`` (a policy's unlimited types: ``policy check`` passes a new one's)."""
        return self.graph.cluster_type_counts(unlimited, min_count)

    def clusters_joined_by_device(self, device_types: list[str], handover_types: list[str]
                                  ) -> list[dict[str, Any]]:
        """Clusters joined only through a device alias while holding two login identities
        of one type: what a device hand-over (docs/identity.md#device-hand-over) splits."""
        return self.graph.clusters_joined_by_device(device_types, handover_types)

    def same_as_links(self) -> int:
        return self.graph.count_same_as()

    def verify(self) -> tuple[list[dict], int, int]:
        """Profiles whose cluster_id disagrees with their SAME_AS component, and the counts
        of profiles and links checked."""
        rows = self.graph.stream(Q.verify_profiles)
        profiles = [(r["profile_id"], r["cluster_id"]) for r in rows]
        links = [(r["from"], r["to"]) for r in self.graph.stream(Q.verify_links)]
        return mismatches(profiles, links), len(profiles), len(links)
