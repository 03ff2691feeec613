"""Every command in README.md's ```sh blocks runs verbatim against a live API.

The blocks run in order, as one bash script (`set -euo pipefail`), the way a newcomer
pastes them into a terminal after `make run`: against a real `converge-graph serve` and
the suite's Neo4j, with `.venv/bin` on PATH and the names the README uses (B, HOOK, WEB,
READ, ADMIN) exported from `converge-graph bootstrap --env`; each block runs in a
subshell. Every curl fails on an HTTP error (`--fail-with-body`) and every command must
exit 0. Output shown in the README lives in ```text blocks, which are not run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from converge_graph.settings import Settings
from tests.conftest import wipe
from tests.procs import CLI, ROOT, running_api

README = ROOT / "README.md"

# Lines that cannot run inside a test, each for its reason; everything else runs.
SKIPPED = {
    "make run": "starts the servers this test already runs",
    "make test": "is the suite this test belongs to",
    "docker compose": "needs a Docker engine (the compose file is checked by test_compose.py)",
}

# Every curl fails on a 4xx/5xx, and shows the body that says why.
PRELUDE = """set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; echo; }
"""


def sh_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, body) of each ```sh block."""
    blocks, lines = [], text.splitlines()
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and re.fullmatch(r"```(sh|bash|shell)\s*", line):
            start = number + 1
        elif start is not None and line.strip() == "```":
            blocks.append((start, "\n".join(lines[start - 1:number - 1])))
            start = None
    return blocks


def skipped(line: str) -> bool:
    command = line.split("#", 1)[0].strip()
    command = re.sub(r"^(\w+=\S*\s+)+", "", command)  # NEO4J_PASSWORD=… docker compose up
    return any(command.startswith(prefix) for prefix in SKIPPED)


def script(blocks: list[tuple[int, str]]) -> str:
    """Each block in a subshell: the names the test exported hold in every block, and a
    block that exports something else (the Docker section's NEO4J_*) changes nothing after."""
    parts = [PRELUDE]
    for start, body in blocks:
        parts.append(f"echo '### README.md line {start}' >&2\n(")
        for line in body.splitlines():
            parts.append(f": skipped {shlex.quote(line)}" if skipped(line) else line)
        parts.append(")")
    return "\n".join(parts) + "\n"


def test_the_readme_has_runnable_blocks_and_no_output_inside_them() -> None:
    blocks = sh_blocks(README.read_text())
    assert len(blocks) >= 4
    for start, body in blocks:
        for offset, line in enumerate(body.splitlines()):
            # Shown output (a JSON reply at the start of a line) belongs in ```text blocks;
            # a command's continuation lines are indented.
            assert not line.startswith(("{", "[")), \
                f"README.md:{start + offset}: output inside a ```sh block: {line}"
            assert "…" not in line.split("#", 1)[0], \
                f"README.md:{start + offset}: an elided command cannot run: {line}"


def test_the_skip_list_names_only_lines_the_readme_has() -> None:
    lines = [line for _, body in sh_blocks(README.read_text()) for line in body.splitlines()]
    for prefix in SKIPPED:
        assert any(skipped(line) and prefix in line for line in lines), \
            f"{prefix!r} is no longer in README.md: drop it from SKIPPED"


def test_every_readme_command_runs_verbatim(neo4j_settings: Settings, driver,
                                            tmp_path: Path) -> None:
    wipe(driver)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")  # `source .venv/bin/activate` as in a clone
    with running_api(neo4j_settings, tmp_path / "api.log") as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "CVG_"))}
        env.update(CVG_LOCAL_NEO4J_HOME=str(tmp_path / "run"),  # bootstrap's credentials
                   NEO4J_URI=neo4j_settings.neo4j_uri, NEO4J_USER="neo4j",
                   NEO4J_PASSWORD=neo4j_settings.neo4j_password, CVG_PUBLIC_URL=api.base,
                   PATH=f"{CLI.parent}{os.pathsep}{env.get('PATH', '')}", COLUMNS="160")
        boot = subprocess.run([str(CLI), "bootstrap", "--env"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert boot.returncode == 0, boot.stdout + boot.stderr
        names = dict(pair.split("=", 1) for pair in shlex.split(boot.stdout)[1:])
        assert set(names) == {"B", "HOOK", "WEB", "READ", "ADMIN"}
        assert names["B"] == api.base
        env.update(names)

        (tmp_path / "readme.sh").write_text(script(sh_blocks(README.read_text())))
        run = subprocess.run(["bash", str(tmp_path / "readme.sh")], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        pytest.fail(f"a README command failed (exit {run.returncode}); the last block "
                    f"marker says where:\n--- stderr\n{run.stderr[-4000:]}\n"
                    f"--- stdout\n{run.stdout[-4000:]}\n--- api log\n{api.log_tail(20)}",
                    pytrace=False)
