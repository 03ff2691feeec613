#!/usr/bin/env python3
"""Run a local Neo4j 5.26 Community server without Docker.

The server is assembled from Maven Central artifacts (``neo4j/pom.xml``) and run
under the machine's Java 17/21. Standard library only, so it runs before any
virtualenv exists.

    python3 scripts/neo4j_local.py fetch      # jars into .neo4j/lib (re-runs reuse them)
    python3 scripts/neo4j_local.py start      # .neo4j/run, Bolt 7687, HTTP 7474, auth on
    python3 scripts/neo4j_local.py status     # exit 0 running, 3 stopped
    python3 scripts/neo4j_local.py password   # the generated password of the instance
    python3 scripts/neo4j_local.py stop

An instance is a directory (``--home``) holding ``conf/neo4j.conf``, ``data/``,
``logs/``, the pid file and, with authentication on, the generated password.
All instances share the downloaded jars. ``start`` prints ``KEY=value`` lines
(``NEO4J_URI`` ...) on stdout; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POM = ROOT / "neo4j" / "pom.xml"
STATE_DIR = ROOT / ".neo4j"
DEFAULT_LIB = STATE_DIR / "lib"
DEFAULT_PLUGINS = STATE_DIR / "plugins"
DEFAULT_HOME = STATE_DIR / "run"

APOC_ARTIFACT = "org.neo4j.procedure:apoc-core:5.26.19:jar:core"
LIB_MARKER = ".complete"
APOC_MARKER = ".apoc-tried"

PID_FILE = "neo4j.pid"
PASSWORD_FILE = "password"
INSTANCE_FILE = "instance.json"
CONSOLE_LOG = "console.log"

API_URL = "http://localhost:8000"
START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
EXIT_STOPPED = 3

# What the official launcher adds from the stock neo4j.conf (minus AlwaysPreTouch,
# which makes every start touch the whole heap).
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
]


def log(msg: str) -> None:
    print(f"neo4j_local: {msg}", file=sys.stderr, flush=True)


def die(msg: str, code: int = 1) -> None:
    log(msg)
    sys.exit(code)


@contextlib.contextmanager
def locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- fetch


def pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def lib_ready(lib: Path) -> bool:
    marker = lib / LIB_MARKER
    return marker.is_file() and marker.read_text().strip() == pom_digest()


def mvn(args: list[str]) -> subprocess.CompletedProcess:
    exe = shutil.which("mvn")
    if exe is None:
        die("Maven (mvn) not found; install it (apt-get install maven) and retry")
    cmd = [exe, "-q", "-B", "-Dstyle.color=never", *args]
    return subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True)


def fetch(lib: Path, plugins: Path) -> None:
    with locked(STATE_DIR / "fetch.lock"):
        if lib_ready(lib):
            log(f"jars already in {lib}")
        else:
            tmp = lib.with_name(lib.name + ".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            log(f"downloading Neo4j from Maven Central into {lib} (one time, ~140 MB)")
            t0 = time.monotonic()
            res = mvn(
                [
                    "-f", str(POM), "dependency:copy-dependencies",
                    "-DincludeScope=runtime", f"-DoutputDirectory={tmp}",
                ]
            )
            if res.returncode != 0:
                sys.stderr.write(res.stdout[-6000:] + res.stderr[-6000:])
                die("mvn dependency:copy-dependencies failed")
            jars = list(tmp.glob("*.jar"))
            if not any(j.name.startswith("neo4j-browser") for j in jars):
                die(f"download incomplete: no neo4j-browser jar among {len(jars)} jars in {tmp}")
            (tmp / LIB_MARKER).write_text(pom_digest() + "\n")
            shutil.rmtree(lib, ignore_errors=True)
            tmp.rename(lib)
            log(f"{len(jars)} jars in {time.monotonic() - t0:.0f} s")
        fetch_apoc(plugins)


def fetch_apoc(plugins: Path) -> None:
    """Optional: APOC core into the shared plugins folder, tried once."""
    plugins.mkdir(parents=True, exist_ok=True)
    marker = plugins / APOC_MARKER
    if marker.exists() or list(plugins.glob("apoc-core-*.jar")):
        return
    mvn(
        [
            "dependency:copy",
            f"-Dartifact={APOC_ARTIFACT}", f"-DoutputDirectory={plugins}",
        ]
    )
    found = list(plugins.glob("apoc-core-*.jar"))
    marker.write_text(f"{APOC_ARTIFACT}: {'ok' if found else 'not available'}\n")
    if found:
        log(f"APOC core: {found[0].name}")
    else:
        log(f"APOC core ({APOC_ARTIFACT}) did not resolve; carrying on without APOC (optional)")


# --------------------------------------------------------------------------- java


def java_major(java: str) -> int | None:
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30
        ).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major


def find_java() -> str:
    candidates: list[str] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(os.path.join(os.environ["JAVA_HOME"], "bin", "java"))
    candidates.append("/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
    candidates += sorted(glob.glob("/usr/lib/jvm/*17*/bin/java"))
    candidates += sorted(glob.glob("/usr/lib/jvm/*21*/bin/java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    existing = [c for c in dict.fromkeys(candidates) if os.path.isfile(c) and os.access(c, os.X_OK)]
    for java in existing:
        if java_major(java) in (17, 21):
            return java
    if existing:
        log(f"no Java 17/21 found; trying {existing[0]} (Neo4j 5.26 needs Java 17 or 21)")
        return existing[0]
    die("no java found; install openjdk-17-jre-headless or set JAVA_HOME")
    raise AssertionError  # unreachable


# --------------------------------------------------------------------------- process


def read_pid(home: Path) -> int | None:
    try:
        return int((home / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int, home: Path | None = None) -> bool:
    """True when ``pid`` is a live (non-zombie) Neo4j server of ``home``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True  # no procfs (macOS): trust kill(0)
    try:
        stat = (proc / "stat").read_text()
        if stat[stat.rindex(")") + 2] in "ZX":
            return False
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ValueError, IndexError):
        return False
    if "CommunityEntryPoint" not in cmdline:
        return False  # pid reused by something else
    return home is None or f"--home-dir={home} " in cmdline


def port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def bolt_answers(port: int) -> bool:
    """A Bolt handshake (5.x/4.4) gets a version back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(2)
            s.sendall(
                bytes.fromhex("6060B017")
                + bytes.fromhex("00080805")  # 5.0 .. 5.8
                + bytes.fromhex("00000404")  # 4.4
                + bytes(8)
            )
            reply = b""
            while len(reply) < 4:
                chunk = s.recv(4 - len(reply))
                if not chunk:
                    return False
                reply += chunk
            return reply != bytes(4)
    except OSError:
        return False


def http_status(url: str, body: bytes | None = None, auth: tuple[str, str] | None = None) -> int:
    req = urllib.request.Request(url, data=body)
    req.add_header("Accept", "application/json")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            payload = resp.read()
            if body is not None and json.loads(payload or b"{}").get("errors"):
                return 500
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return 0


def server_ready(home: Path, inst: dict) -> bool:
    """Bolt handshakes, HTTP discovery answers, and the default database runs a query."""
    bolt, http = inst["bolt_port"], inst["http_port"]
    if not bolt_answers(bolt):
        return False
    if http_status(f"http://127.0.0.1:{http}/") != 200:
        return False
    auth = ("neo4j", read_password(home) or "") if inst.get("auth") else None
    query = json.dumps({"statements": [{"statement": "RETURN 1"}]}).encode()
    return http_status(f"http://127.0.0.1:{http}/db/neo4j/tx/commit", query, auth) == 200


def tail(path: Path, n: int = 40) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(lines[-n:])


# --------------------------------------------------------------------------- instance


def load_instance(home: Path) -> dict | None:
    try:
        return json.loads((home / INSTANCE_FILE).read_text())
    except (OSError, ValueError):
        return None


def new_password() -> str:
    """144 random bits as hex: a password neo4j-admin takes as an argument whatever it
    draws (a URL-safe token starts with '-' one time in 64, and was read as an option)."""
    return secrets.token_hex(18)


def read_password(home: Path) -> str | None:
    try:
        return (home / PASSWORD_FILE).read_text().strip() or None
    except OSError:
        return None


def env_lines(home: Path, inst: dict) -> str:
    pw = read_password(home) if inst.get("auth") else ""
    return "\n".join(
        [
            f"NEO4J_URI=bolt://127.0.0.1:{inst['bolt_port']}",
            "NEO4J_USER=neo4j",
            f"NEO4J_PASSWORD={pw or ''}",
            f"NEO4J_BROWSER_URL=http://localhost:{inst['http_port']}/browser/",
        ]
    )


def write_conf(home: Path, inst: dict, plugins: Path) -> None:
    conf = home / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    bolt, http = inst["bolt_port"], inst["http_port"]
    lines = [
        "# Written by scripts/neo4j_local.py on every start; edits are overwritten.",
        "server.default_listen_address=127.0.0.1",
        "server.default_advertised_address=127.0.0.1",
        f"server.bolt.listen_address=127.0.0.1:{bolt}",
        f"server.bolt.advertised_address=127.0.0.1:{bolt}",
        f"server.http.listen_address=127.0.0.1:{http}",
        f"server.http.advertised_address=127.0.0.1:{http}",
        "server.https.enabled=false",
        f"server.directories.data={home / 'data'}",
        f"server.directories.logs={home / 'logs'}",
        f"server.directories.import={home / 'import'}",
        f"server.directories.run={home / 'run'}",
        f"server.directories.plugins={plugins}",
        f"dbms.security.auth_enabled={'true' if inst['auth'] else 'false'}",
        f"server.memory.heap.initial_size={inst['heap']}",
        f"server.memory.heap.max_size={inst['heap']}",
        f"server.memory.pagecache.size={inst['pagecache']}",
        "dbms.usage_report.enabled=false",
        # Opening Browser applies the project's style and offers its guide, both served
        # by the API (Browser fetches remote content only from allow-listed host names).
        f"browser.post_connect_cmd=style {inst.get('api_url', API_URL)}/browser/style.grass; "
        f"play {inst.get('api_url', API_URL)}/browser/guide.html",
        "browser.remote_content_hostname_whitelist=localhost,127.0.0.1",
        # Bolt waits 5 s + 5 s for idle connections on shutdown by default.
        "internal.server.bolt.connection_shutdown_wait_time=1s",
        "internal.server.bolt.thread_pool_shutdown_wait_time=1s",
        *(f"server.jvm.additional={flag}" for flag in JVM_FLAGS),
    ]
    (conf / "neo4j.conf").write_text("\n".join(lines) + "\n")


def neo4j_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["NEO4J_HOME"] = str(home)
    env["NEO4J_CONF"] = str(home / "conf")
    return env


def ensure_password(home: Path, java: str, lib: Path) -> None:
    """Generate the password once; set it before the first start of the database."""
    pw_file = home / PASSWORD_FILE
    first_start = not (home / "data" / "databases" / "system").exists()
    pw = read_password(home)
    if pw is None:
        if not first_start:
            die(
                f"{pw_file} is missing but the database in {home / 'data'} already exists; "
                "its password cannot be recovered. Start with --fresh to wipe it."
            )
        pw = new_password()
        fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(pw + "\n")
        log(f"generated a password for user neo4j into {pw_file}")
    os.chmod(pw_file, 0o600)
    if not first_start:
        return
    res = subprocess.run(
        [
            java, "-cp", f"{home / 'conf'}/*:{lib}/*",
            "org.neo4j.server.startup.Neo4jAdminCommand",
            "dbms", "set-initial-password", pw,
        ],
        env=neo4j_env(home), stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        die("neo4j-admin dbms set-initial-password failed")


def server_command(java: str, home: Path, lib: Path, heap: str) -> list[str]:
    return [
        java, "-cp", f"{home / 'conf'}/*:{lib}/*",
        *JVM_FLAGS,
        "-Dfile.encoding=UTF-8", f"-Xms{heap}", f"-Xmx{heap}",
        "org.neo4j.server.CommunityEntryPoint",
        f"--home-dir={home}", f"--config-dir={home / 'conf'}", "--console-mode",
    ]


def terminate(pid: int, home: Path, timeout: float = STOP_TIMEOUT) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid, home):
            return
        time.sleep(0.2)
    log(f"pid {pid} still running after {timeout:.0f} s; sending SIGKILL")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and pid_alive(pid, home):
        time.sleep(0.2)


def wait_ready(home: Path, inst: dict, pid: int, proc: subprocess.Popen | None) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc is not None:
            # Our child: poll() also covers the moment before it has exec'd java.
            if proc.poll() is not None:
                return False
        elif not pid_alive(pid, home):
            return False
        if server_ready(home, inst):
            return True
        time.sleep(0.5)
    return False


def cmd_start(args: argparse.Namespace) -> int:
    home: Path = args.home
    home.mkdir(parents=True, exist_ok=True)
    lib: Path = args.lib
    if not lib_ready(lib):
        fetch(lib, args.plugins)
    with locked(home / ".lock"):
        inst = {
            "bolt_port": args.bolt_port,
            "http_port": args.http_port,
            "auth": not args.no_auth,
            "heap": args.heap,
            "pagecache": args.pagecache,
            "api_url": args.api_url.rstrip("/"),
        }
        pid = read_pid(home)
        if pid is not None and pid_alive(pid, home):
            running = load_instance(home) or inst
            if args.fresh:
                log(f"--fresh: stopping the running server (pid {pid}) first")
                terminate(pid, home)
                (home / PID_FILE).unlink(missing_ok=True)
            else:
                if not server_ready(home, running) and not wait_ready(home, running, pid, None):
                    log(f"pid {pid} is running but Neo4j does not answer; last log lines:")
                    sys.stderr.write(tail(home / "logs" / CONSOLE_LOG) + "\n")
                    return 1
                if (running["bolt_port"], running["http_port"]) != (
                    args.bolt_port, args.http_port
                ):
                    log("note: the running server uses its own ports, not the ones asked for")
                log(f"already running (pid {pid}); nothing to do")
                print(env_lines(home, running), flush=True)
                return 0
        elif pid is not None:
            log(f"removing stale pid file (pid {pid} is not running)")
            (home / PID_FILE).unlink(missing_ok=True)

        for port in (args.bolt_port, args.http_port):
            if port_open(port):
                log(f"port {port} on 127.0.0.1 is already in use by another process")
                return 1

        if args.fresh:
            shutil.rmtree(home / "data", ignore_errors=True)
        for sub in ("data", "logs", "import", "run"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        lib_link = home / "lib"
        if not lib_link.exists():
            with contextlib.suppress(OSError):
                lib_link.unlink()
            lib_link.symlink_to(lib.resolve())
        write_conf(home, inst, args.plugins.resolve())
        (home / INSTANCE_FILE).write_text(json.dumps(inst, indent=2) + "\n")

        java = find_java()
        if inst["auth"]:
            ensure_password(home, java, lib.resolve())

        log_path = home / "logs" / CONSOLE_LOG
        with open(log_path, "a") as logf:
            logf.write(f"\n=== neo4j_local start {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n")
            logf.flush()
            proc = subprocess.Popen(
                server_command(java, home, lib.resolve(), inst["heap"]),
                cwd=home, env=neo4j_env(home), stdin=subprocess.DEVNULL,
                stdout=logf, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
            )
        (home / PID_FILE).write_text(f"{proc.pid}\n")
        log(
            f"starting Neo4j (pid {proc.pid}, bolt {args.bolt_port}, http {args.http_port}, "
            f"auth {'on' if inst['auth'] else 'off'}); log {log_path}"
        )
        t0 = time.monotonic()
        if not wait_ready(home, inst, proc.pid, proc):
            code = proc.poll()
            why = f"exited with {code}" if code is not None else f"silent for {START_TIMEOUT:.0f} s"
            log(f"Neo4j did not come up ({why}); last 40 lines of {log_path}:")
            sys.stderr.write(tail(log_path) + "\n")
            if code is None:
                terminate(proc.pid, home)
            (home / PID_FILE).unlink(missing_ok=True)
            return 1
        log(f"Neo4j is up after {time.monotonic() - t0:.1f} s")
        print(env_lines(home, inst), flush=True)
        return 0


def cmd_stop(args: argparse.Namespace) -> int:
    home: Path = args.home
    if not home.exists():
        log(f"not running ({home} does not exist)")
        return 0
    with locked(home / ".lock"):
        pid = read_pid(home)
        if pid is None or not pid_alive(pid, home):
            (home / PID_FILE).unlink(missing_ok=True)
            log("not running")
            return 0
        log(f"stopping Neo4j (pid {pid})")
        terminate(pid, home)
        (home / PID_FILE).unlink(missing_ok=True)
        log("stopped")
        return 0


def cmd_status(args: argparse.Namespace) -> int:
    home: Path = args.home
    pid = read_pid(home)
    if pid is None or not pid_alive(pid, home):
        print("stopped")
        return EXIT_STOPPED
    inst = load_instance(home)
    ready = inst is not None and server_ready(home, inst)
    where = f", bolt {inst['bolt_port']}, http {inst['http_port']}" if inst else ""
    print(f"running (pid {pid}{where}{'' if ready else ', not answering yet'})")
    return 0


def cmd_password(args: argparse.Namespace) -> int:
    home: Path = args.home
    inst = load_instance(home)
    if inst is not None and not inst.get("auth"):
        print("")
        return 0
    pw = read_password(home)
    if pw is None:
        die(f"no password yet in {home / PASSWORD_FILE}; run start first")
    print(pw)
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    fetch(args.lib, args.plugins)
    return 0


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home", type=Path, default=DEFAULT_HOME,
        help="instance directory (default .neo4j/run; the test suite uses .neo4j/test)",
    )
    common.add_argument("--lib", type=Path, default=DEFAULT_LIB, help="shared jar folder")
    common.add_argument("--plugins", type=Path, default=DEFAULT_PLUGINS, help="plugins folder")
    common.add_argument("--bolt-port", type=int, default=7687)
    common.add_argument("--http-port", type=int, default=7474)
    common.add_argument("--no-auth", action="store_true", help="authentication off (tests)")
    common.add_argument("--heap", default="4g", help="JVM heap (initial = max), e.g. 1g")
    common.add_argument("--pagecache", default="4g", help="page cache size, e.g. 1g")
    common.add_argument("--fresh", action="store_true", help="wipe the data folder first")
    common.add_argument("--api-url", default=API_URL,
                        help="where the API serves the Browser style and guide")

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    handlers = {
        "fetch": (cmd_fetch, "download the Neo4j jars (re-runs reuse them)"),
        "start": (cmd_start, "start the instance and wait until it answers"),
        "stop": (cmd_stop, "stop the instance (SIGTERM, SIGKILL after 60 s)"),
        "status": (cmd_status, "print running/stopped; exit 0/3"),
        "password": (cmd_password, "print the instance's generated neo4j password"),
    }
    for name, (fn, help_text) in handlers.items():
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.set_defaults(func=fn)
    args = parser.parse_args(argv)
    args.home = args.home.absolute()
    args.lib = args.lib.absolute()
    args.plugins = args.plugins.absolute()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
