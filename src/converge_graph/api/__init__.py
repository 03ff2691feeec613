"""The HTTP API: app factory, lifespan, error table, one router per resource."""

from converge_graph.api.app import create_app

__all__ = ["create_app"]
