"""converge-graph: identity resolution for customer event data, stored in Neo4j."""

__version__ = "0.1.0"
