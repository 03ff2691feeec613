"""The repository explains itself: code, tests, benchmarks and docs cite docs/… and README.md, never
documents that live outside the repository (a shared folder, a spec, an issue tracker)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["src", "tests", "docs", "benchmarks", "scripts", "cypher", "README.md"]
SKIPPED_DIRS = {"node_modules", "__pycache__", ".pytest_cache"}
TEXT_SUFFIXES = {".py", ".md", ".cypher", ".toml", ".json", ".js", ".html", ".yml", ".yaml",
                 ".txt", ".grass", ".cfg"}

# Built from pieces so that this file does not match its own pattern.
OUTSIDE = re.compile("|".join([
    "shared" + "/",            # a folder beside the repository
    "S" + "PEC",               # a specification by section number, not in docs/
    "issue" + r" [0-9]",       # the tracker, not the code's contract
]))


def scanned_files() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        top = ROOT / name
        if top.is_file():
            files.append(top)
            continue
        for path in top.rglob("*"):
            if (path.is_file() and path.suffix in TEXT_SUFFIXES
                    and not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
                    and not any(part.endswith(".egg-info") for part in path.parts)):
                files.append(path)
    return files


def test_the_scan_covers_code_tests_and_docs() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    assert {"README.md", "src/converge_graph/settings.py", "docs/identity.md",
            "tests/unit/test_self_contained.py"} <= names


def test_nothing_cites_a_document_outside_the_repository() -> None:
    hits = []
    for path in scanned_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "cite docs/… instead:\n" + "\n".join(hits)
