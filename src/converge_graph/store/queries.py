"""The service's queries: ``cypher/<name>.cypher`` for each member of :class:`Q`.

Names are closed (an enum), so a typo is an AttributeError at import, not a missing file
at run time. Every file is loaded and its header checked when the store starts
(:func:`converge_graph.core.cypher.check_service_query`): analysts read these files as
the documentation of exactly what the service runs.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from converge_graph.core.cypher import check_service_query, load_query


class Q(StrEnum):
    cluster_by_alias = "cluster_by_alias"
    cluster_events = "cluster_events"
    cluster_graph = "cluster_graph"
    cluster_links = "cluster_links"
    cluster_page = "cluster_page"
    cluster_properties = "cluster_properties"
    cluster_type_counts = "cluster_type_counts"
    clusters_linked_by_alias = "clusters_linked_by_alias"
    clusters_joined_by_device = "clusters_joined_by_device"
    clusters_linked_by_event = "clusters_linked_by_event"
    count_same_as = "count_same_as"
    create_api_key = "create_api_key"
    create_datasource = "create_datasource"
    erase_cluster = "erase_cluster"
    find_api_key = "find_api_key"
    find_datasource = "find_datasource"
    find_datasource_by_name = "find_datasource_by_name"
    handovers_between = "handovers_between"
    link_profiles = "link_profiles"
    list_conflicts = "list_conflicts"
    list_datasources = "list_datasources"
    lock_clusters = "lock_clusters"
    merge_clusters = "merge_clusters"
    read_batch = "read_batch"
    read_cluster_node = "read_cluster_node"
    read_cluster_verified = "read_cluster_verified"
    read_event = "read_event"
    read_profile = "read_profile"
    readiness = "readiness"
    rotate_signing_secret = "rotate_signing_secret"
    set_datasource_origins = "set_datasource_origins"
    show_indexes = "show_indexes"
    split_cluster = "split_cluster"
    strip_alias_evidence = "strip_alias_evidence"
    strip_event_evidence = "strip_event_evidence"
    verify_links = "verify_links"
    verify_profiles = "verify_profiles"
    write_batch = "write_batch"
    # destinations and the delivery outbox (docs/destinations.md)
    claim_deliveries = "claim_deliveries"
    create_destination = "create_destination"
    delivery_counts = "delivery_counts"
    drop_person_deliveries = "drop_person_deliveries"
    due_deliveries = "due_deliveries"
    finish_deliveries = "finish_deliveries"
    list_deliveries = "list_deliveries"
    list_destinations = "list_destinations"
    lock_deliveries = "lock_deliveries"
    record_deliveries = "record_deliveries"
    remove_destination = "remove_destination"
    retry_deliveries = "retry_deliveries"
    set_destination_enabled = "set_destination_enabled"


class Queries:
    """Every :class:`Q` loaded from a folder; ``queries[Q.read_batch]`` is its text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._text = {name: check_service_query(load_query(folder / f"{name}.cypher")).text
                      for name in Q}

    def __getitem__(self, name: Q) -> str:
        return self._text[name]
