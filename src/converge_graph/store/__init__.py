"""The only package that touches the Neo4j driver."""
