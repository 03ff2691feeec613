"""scripts/neo4j_local.py's generated password is always a valid neo4j-admin argument."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "neo4j_local.py"


def _script():
    spec = importlib.util.spec_from_file_location("neo4j_local", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_generated_password_never_reads_as_an_option():
    """`set-initial-password -abc…` failed with 'Missing required parameter' (seen in CI)."""
    script = _script()
    drawn = {script.new_password() for _ in range(3000)}
    assert len(drawn) == 3000
    assert not [pw for pw in drawn if pw.startswith("-")]
    assert all(len(pw) >= 32 and pw.isalnum() for pw in drawn)
