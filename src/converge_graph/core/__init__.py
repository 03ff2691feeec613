"""Pure identity logic: no neo4j, no fastapi, nothing of ours outside core/."""
