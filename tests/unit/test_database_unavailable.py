"""Driver errors that mean "Neo4j not reachable, or the commit not confirmed" become
``DatabaseUnavailable`` (503 + Retry-After); query bugs stay what they are (docs/api.md#errors)."""

from __future__ import annotations

import pytest
from neo4j.exceptions import (
    BrokenRecordError,
    ClientError,
    ConnectionAcquisitionTimeoutError,
    CypherSyntaxError,
    IncompleteCommit,
    NotALeader,
    ResultNotSingleError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from neo4j.exceptions import DatabaseUnavailable as DriverDatabaseUnavailable

from converge_graph.errors import DatabaseUnavailable
from converge_graph.store.graph import translated

UNREACHABLE = [
    ServiceUnavailable("Couldn't connect to 127.0.0.1:7687"),
    IncompleteCommit("Connection lost after commit was sent: outcome unknown"),
    SessionExpired("Failed to read from defunct connection"),
    TransientError("Neo.TransientError.Transaction.DeadlockDetected after retries"),
    DriverDatabaseUnavailable("Neo.TransientError.General.DatabaseUnavailable"),
    NotALeader("no longer the leader"),
    ConnectionAcquisitionTimeoutError("failed to obtain a connection from the pool within 10s"),
    BrokenRecordError("Record was broken: the connection was lost"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError("timed out"),
    OSError(111, "Connection refused"),
]


@pytest.mark.parametrize("error", UNREACHABLE, ids=lambda e: type(e).__name__)
def test_unreachable_or_unconfirmed_is_database_unavailable(error):
    with pytest.raises(DatabaseUnavailable) as raised, translated():
        raise error
    assert raised.value.status == 503
    assert raised.value.__cause__ is error


@pytest.mark.parametrize("error", [
    CypherSyntaxError("Invalid input"), ClientError("Neo.ClientError.Statement.ParameterMissing"),
    ResultNotSingleError("expected one record"), ValueError("a bug of ours"),
], ids=lambda e: type(e).__name__)
def test_query_and_programming_errors_are_not_disguised_as_outages(error):
    with pytest.raises(type(error)), translated():
        raise error
