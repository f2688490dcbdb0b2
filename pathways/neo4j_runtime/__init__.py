"""A local Neo4j Community 5.26 LTS server on loopback, for development, tests and CI.

How it works (no Docker, no tarball):

1. ``ensure_jars()`` asks Maven to resolve ``org.neo4j:neo4j`` (the pom beside this file)
   from Maven Central and copy every jar into ``$PATHWAYS_CACHE/neo4j-<version>/lib``, once.
2. ``start_server()`` makes a home directory with its own ``conf/neo4j.conf`` (Bolt on
   127.0.0.1 and a free port, HTTP off), sets a random password with Neo4j's own
   ``AdminTool``, and runs ``org.neo4j.server.CommunityEntryPoint`` on Java 17+ in its own
   process group, then waits until the driver can connect.  With ``recover=True`` it starts
   on an existing home instead (after a crash Neo4j replays its transaction log, so every
   committed load is there), keeping that server's password.
3. ``stop_server()`` sends SIGTERM (Neo4j shuts down cleanly), then SIGKILL after a wait,
   and removes the home unless asked to keep it.

Hardening (a web page open in the user's browser must not reach the graph):

- every server gets its own random password (``secrets.token_urlsafe``), kept only in
  ``server.json``, written 0600 in a 0700 directory, and never printed;
- Neo4j 5.26 serves Bolt over WebSocket on its Bolt port to any web origin (its transport
  handler switches to WebSocket on any ``GET``; no setting turns that off or checks the
  ``Origin``, and ``server.bolt.tls_level=REQUIRED`` is not applied to WebSocket).  So the
  local server listens on a port browsers refuse to connect to at all (the Fetch
  standard's "bad ports", :data:`BROWSER_BLOCKED_PORTS`); the Python driver, which speaks
  plain Bolt over TCP, is unaffected.  With ``--port`` you choose, and lose that.

Memory: Neo4j keeps a transaction's changes in memory until it commits, and a load is one
transaction (so readers never see half of one).  That takes about 4 KB of heap per row
written, so the heap defaults to half of the machine's memory (see :func:`default_heap`),
given back to the system when idle; ``PATHWAYS_NEO4J_HEAP`` overrides it.

Neo4j Community is GPLv3; it is downloaded as a dependency, never committed.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from pathways.config import Settings
from pathways.errors import Neo4jRuntimeError
from pathways.processes import alive

POM = Path(__file__).with_name("pom.xml")
# What Neo4j's own launcher passes to the JVM (see bin/neo4j in the distribution).
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
]
# The heap starts small and grows as a load needs it; when the server is idle, G1 collects
# every minute and gives unused heap back to the system (JEP 346).  GCTimeRatio=4 lets G1
# spend up to a fifth of its time collecting before it grows the heap (default: a
# thirteenth): a 100k load peaked at 5.1 GB resident instead of 6.3 GB, no slower.
HEAP_FLAGS = ["-Xms512m", "-XX:G1PeriodicGCInterval=60000", "-XX:GCTimeRatio=4"]
MIN_HEAP_MB = 1024
MAX_HEAP_MB = 31 * 1024  # beyond 31g the JVM loses compressed pointers
# Ports that every browser refuses to open, for fetch() and WebSocket alike (the Fetch
# standard's "bad ports"; Chromium, Firefox and Safari all enforce them).  Neo4j 5.26 serves
# Bolt over WebSocket on its Bolt port to any web origin, with no setting to stop it, so the
# local server listens on one of these: the driver connects, a web page cannot.  Those
# browsers have refused longest come first.
BROWSER_BLOCKED_PORTS = (6665, 6666, 6667, 6668, 6669, 6697, 6000, 5060, 5061, 2049, 4045,
                         1719, 1720, 10080, 3659, 6566, 1723, 6679, 4190)
# Test and throwaway servers' ports (see :func:`free_port`): outside the range the kernel
# picks outgoing connections' local ports from, never one number twice in a process.
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LINUX_EPHEMERAL_RANGE = (32768, 60999)
PORT_POOL_START = 20000
FALLBACK_POOL = range(PORT_POOL_START, LINUX_EPHEMERAL_RANGE[0])
MIN_POOL = 1000
_GIVEN_PORTS: set[int] = set()
_GIVEN_LOCK = threading.Lock()


@dataclass
class ServerInfo:
    uri: str
    user: str
    password: str
    pid: int
    home: str
    version: str
    started_seconds: float
    imported_rows: int = 0  # with --import: rows bulk-imported, and how long neo4j-admin took
    import_seconds: float = 0.0
    heap: str = ""

    def save(self, path: Path) -> None:
        """Write as JSON, readable by this user only (the password is in it)."""
        _private_dir(path.parent)
        staging = path.with_name(path.name + ".tmp")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # even if a stale file was there with other modes
            handle.write(json.dumps(asdict(self), indent=2))
        os.replace(staging, path)

    @classmethod
    def from_dict(cls, data: dict) -> ServerInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def new_password() -> str:
    """A random password for one server: 48 hex digits (192 bits).

    Hex, not ``token_urlsafe``: one password in 64 from that began with "-", which
    ``neo4j-admin`` read as an option ("Missing required parameter: '<password>'"), so one
    ``start`` in 64 failed."""
    return secrets.token_hex(24)


def _settings(config: Settings | None) -> Settings:
    """The run's settings: those given (the CLI's), else the environment as it is now."""
    return config if config is not None else Settings.from_env()


def state_file(config: Settings | None = None) -> Path:
    """What ``pathways neo4j start`` records: :attr:`pathways.config.Settings.state_file`."""
    return _settings(config).state_file


def cache_dir(config: Settings | None = None) -> Path:
    """Where downloaded jars are kept: ``$PATHWAYS_CACHE`` or the user's cache dir."""
    given = _settings(config).cache
    if given:
        return given
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("thriving-pathways", appauthor=False))


def lib_dir(version: str | None = None, config: Settings | None = None) -> Path:
    version = version or _settings(config).neo4j_version
    return cache_dir(config) / f"neo4j-{version}" / "lib"


def java_executable(config: Settings | None = None) -> str:
    java_home = _settings(config).java_home
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise Neo4jRuntimeError("Java 17 or newer is needed to run Neo4j; none found on PATH")
    return found


def ensure_jars(version: str | None = None, quiet: bool = True,
                config: Settings | None = None) -> Path:
    """Resolve Neo4j's jars from Maven Central into the cache (once); return the folder."""
    version = version or _settings(config).neo4j_version
    target = lib_dir(version, config)
    marker = target / ".complete"
    if marker.exists():
        return target
    mvn = shutil.which("mvn")
    if not mvn:
        raise Neo4jRuntimeError("Maven (mvn) is needed once to download Neo4j's jars")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"lib-{version}-", dir=target.parent))
    command = [
        mvn, "-B", "-f", str(POM), f"-Dneo4j.version={version}",
        "dependency:copy-dependencies", f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
    ]
    if quiet:
        command.insert(2, "-q")
    done = subprocess.run(command, capture_output=quiet, text=True)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = (done.stdout or "")[-2000:] + (done.stderr or "")[-2000:]
        raise Neo4jRuntimeError(f"Maven could not resolve org.neo4j:neo4j:{version}:\n{tail}")
    (staging / ".complete").write_text(version, encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def ephemeral_port_range(source: Path | None = None) -> tuple[int, int]:
    """The ports the kernel hands out as the local ports of outgoing connections (Linux's
    ``ip_local_port_range``), or Linux's default where that file cannot be read."""
    try:
        low, high = (int(word) for word in (source or EPHEMERAL_RANGE_FILE).read_text().split())
    except (OSError, ValueError):
        return LINUX_EPHEMERAL_RANGE
    return low, high


def port_pool(ephemeral: tuple[int, int] | None = None) -> range:
    """Where :func:`free_port` picks from: below the ephemeral range (from 20000, or from
    1024 if that range starts lower), else above it, else 20000-32767 when the kernel may
    hand out every port.

    >>> port_pool((32768, 60999)), port_pool((10000, 60999)), port_pool((1024, 49999))
    (range(20000, 32768), range(1024, 10000), range(50000, 65536))
    """
    low, high = ephemeral or ephemeral_port_range()
    start = PORT_POOL_START if low - PORT_POOL_START >= MIN_POOL else 1024
    for pool in (range(start, low), range(high + 1, 65536)):
        if len(pool) >= MIN_POOL:
            return pool
    return FALLBACK_POOL


def free_port() -> int:
    """A port nothing listens on now, for a server about to start on 127.0.0.1.

    Picked at random outside the kernel's ephemeral range: a port from ``bind(0)`` is one
    the kernel may give any outgoing connection (a driver's Bolt socket, the browser) as
    its local port before the server binds it, and the server then fails with "Address
    already in use".  Never one of :data:`BROWSER_BLOCKED_PORTS` (a browser could not open
    a page there), and never a number this process was given before (two servers started
    one after the other cannot both get it, nor a later one the port of a server that is
    still shutting down).
    """
    pool = port_pool()
    with _GIVEN_LOCK:
        for _ in range(1000):
            port = pool[secrets.randbelow(len(pool))]
            if port in _GIVEN_PORTS or port in BROWSER_BLOCKED_PORTS or not _port_free(port):
                continue
            _GIVEN_PORTS.add(port)
            return port
    raise Neo4jRuntimeError(f"no free port found in {pool.start}-{pool.stop - 1}")


def browser_blocked_ports() -> list[int]:
    """The ports of :data:`BROWSER_BLOCKED_PORTS` nothing listens on now, in order."""
    return [port for port in BROWSER_BLOCKED_PORTS if _port_free(port)]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def machine_memory_mb() -> int:
    """Physical memory, or the container's limit when it is lower (cgroup v2 or v1)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text) // 2**20)
    return total


def default_heap(memory_mb: int | None = None) -> str:
    """The local server's maximum heap: half the machine's memory, between 1g and 31g.

    Neo4j holds a transaction's changes in the heap until it commits: about 4 KB per row
    written (measured on the synthetic 100k graph: 564k rows), and the server refuses a
    transaction beyond 70 % of the heap.  A load of up to 50,000 rows is one transaction;
    a bigger one commits in batches sized from the server's transaction memory, so a larger
    heap means fewer, larger batches rather than loads that fit at all.  The heap starts at
    512 MB and grows only while a load needs it (see :data:`HEAP_FLAGS`).

    >>> default_heap(24 * 1024), default_heap(1024), default_heap(256 * 1024)
    ('12288m', '1024m', '31744m')
    """
    memory_mb = machine_memory_mb() if memory_mb is None else memory_mb
    return f"{min(MAX_HEAP_MB, max(MIN_HEAP_MB, memory_mb // 2))}m"


def _write_config(home: Path, port: int, heap: str, pagecache: str,
                  extra: dict[str, str] | None = None) -> None:
    (home / "conf").mkdir(parents=True, exist_ok=True)
    for sub in ("data", "logs", "run", "plugins", "import"):
        (home / sub).mkdir(exist_ok=True)
    settings = {
        "server.default_listen_address": "127.0.0.1",
        "server.default_advertised_address": "127.0.0.1",
        "server.bolt.enabled": "true",
        "server.bolt.listen_address": f"127.0.0.1:{port}",
        "server.bolt.advertised_address": f"127.0.0.1:{port}",
        "server.http.enabled": "false",
        "server.https.enabled": "false",
        # No lock-out after failed logins: the password is 192 random bits, and the lock
        # (per user, for everyone) let a client with another server's password on the same
        # port lock the rightful one out.
        "dbms.security.auth_max_failed_attempts": "0",
        "server.directories.data": str(home / "data"),
        "server.directories.logs": str(home / "logs"),
        "server.directories.run": str(home / "run"),
        "server.directories.plugins": str(home / "plugins"),
        "server.directories.import": str(home / "import"),
        "server.memory.heap.initial_size": HEAP_FLAGS[0].removeprefix("-Xms"),
        "server.memory.heap.max_size": heap,
        "server.memory.pagecache.size": pagecache,
        "dbms.usage_report.enabled": "false",
        "db.tx_log.rotation.retention_policy": "1 files",
        **(extra or {}),
    }
    text = "".join(f"{k}={v}\n" for k, v in settings.items())
    (home / "conf" / "neo4j.conf").write_text(text, encoding="utf-8")


def _log_tail(home: Path, lines: int = 30) -> str:
    parts = []
    for name in ("console.log", "logs/neo4j.log"):
        path = home / name
        if path.exists():
            parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
    return "\n".join(parts)


def has_database(home: Path | str) -> bool:
    """Whether ``home`` holds a database a server wrote (so it can be started again)."""
    return (Path(home) / "data" / "databases" / "neo4j").is_dir()


def start_server(
    *,
    password: str | None = None,
    port: int | None = None,
    home: Path | None = None,
    heap: str | None = None,
    pagecache: str | None = None,
    timeout: float = 180.0,
    version: str | None = None,
    import_plan=None,
    recover: bool = False,
    settings: dict[str, str] | None = None,
    config: Settings | None = None,
    dies_with_caller: bool = False,
) -> ServerInfo:
    """Start Neo4j on 127.0.0.1; return once the driver can connect.

    A new server (the default) gets a new home (or ``home``, which must not hold a
    database yet) and a random password unless ``password`` is given.  ``recover=True``
    starts on ``home``'s existing database with its ``password``: Neo4j replays its
    transaction log, so after a crash every committed load is back.

    Heap and page cache default to ``$PATHWAYS_NEO4J_HEAP`` (else :func:`default_heap`)
    and ``$PATHWAYS_NEO4J_PAGECACHE`` (256m).  ``import_plan`` (validated rows, e.g. a
    :class:`loaders.living_db.LoadPlan`; see :class:`.bulk.ValidatedRows`) is bulk-imported
    with neo4j-admin before the server starts (see :mod:`.bulk`).  ``settings`` adds to or
    overrides ``neo4j.conf``;
    ``config`` is the run's :class:`~pathways.config.Settings` (default: the environment's).

    ``dies_with_caller=True`` (tests, benchmarks: a throwaway server) has Linux stop the
    server (SIGTERM, a clean shutdown) when the thread that started it ends, even if that
    process is killed (``kill -9``, a CI job cancelled), so no orphan Neo4j is left holding
    a port, gigabytes of heap and a core; it needs the calling thread to outlive the
    server (the main thread, as in a pytest fixture).  ``pathways neo4j start`` leaves it
    off: that server outlives the command by design.
    """
    run = _settings(config)
    heap = heap or run.neo4j_heap or default_heap()
    pagecache = pagecache or run.neo4j_pagecache
    version = version or run.neo4j_version
    began = time.monotonic()
    if recover:
        if home is None or password is None or not has_database(home):
            raise Neo4jRuntimeError(
                "recovering needs the home of a previous server and its password")
        if import_plan is not None:
            raise Neo4jRuntimeError("a bulk import needs a new server, not a recovered one")
    elif home is not None and has_database(home):
        raise Neo4jRuntimeError(
            f"{home} already holds a Neo4j database; recover it or choose another home")
    password = password or new_password()
    libs = ensure_jars(version, config=run)
    java = java_executable(run)
    if home is None:
        base = run.state_file.parent
        _private_dir(base)
        home = Path(tempfile.mkdtemp(prefix="server-", dir=base))
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)  # a given home may not exist yet (benchmarks' temp dirs)
    os.chmod(home, 0o700)
    # Given a port, that one; else one browsers refuse to connect to (another process may
    # take it first: then the next), and a random one only if all of those are taken.
    ports = [port] if port else [*browser_blocked_ports(), free_port()]
    _write_config(home, ports[0], heap, pagecache, settings)
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
    classpath = f"{libs}/*"
    if not recover:
        admin = subprocess.run(
            [java, *JVM_FLAGS, "-cp", classpath, "org.neo4j.cli.AdminTool",
             "dbms", "set-initial-password", "--", password],
            env=env, capture_output=True, text=True,
        )
        if admin.returncode != 0:
            raise Neo4jRuntimeError(f"could not set the Neo4j password:\n{admin.stderr[-2000:]}")
    imported_rows, import_seconds = 0, 0.0
    if import_plan is not None:
        from pathways.neo4j_runtime import bulk
        from pathways.store.base import now_iso

        staging = home / "import-staging"
        import_began = time.monotonic()
        files = bulk.write_import_files(import_plan, staging, now_iso())
        bulk.run_import(java, JVM_FLAGS, classpath, home, files)
        shutil.rmtree(staging, ignore_errors=True)
        imported_rows, import_seconds = files.rows, time.monotonic() - import_began
    deadline = time.monotonic() + timeout
    for attempt, port in enumerate(ports):
        _write_config(home, port, heap, pagecache, settings)
        process = _launch(java, classpath, home, heap, env, dies_with_caller)
        uri = f"bolt://127.0.0.1:{port}"
        last = attempt == len(ports) - 1
        if _wait_until_ready(process, uri, password, deadline, home, last=last):
            break
    if import_plan is not None:
        _after_import(uri, password)
    return ServerInfo(uri, "neo4j", password, process.pid, str(home), version,
                      round(time.monotonic() - began, 2), imported_rows, round(import_seconds, 2),
                      heap)


def _ends_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to send the child SIGTERM when the thread that
    forked it ends (``prctl(PR_SET_PDEATHSIG)``), or None where there is no such call.
    libc is looked up before the fork: the child only calls a function pointer."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def tie() -> None:
        if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            os._exit(125)  # nothing to tie to: do not start a server that could be orphaned
        if os.getppid() != parent:  # the caller ended before prctl took effect
            os._exit(125)

    return tie


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _launch(java: str, classpath: str, home: Path, heap: str, env: dict,
            dies_with_caller: bool = False) -> subprocess.Popen:
    tie = _ends_with_parent() if dies_with_caller else None
    with (home / "console.log").open("w") as console:
        return subprocess.Popen(
            [java, *HEAP_FLAGS, f"-Xmx{heap}", *JVM_FLAGS, "-cp", classpath,
             "org.neo4j.server.CommunityEntryPoint",
             f"--home-dir={home}", f"--config-dir={home / 'conf'}"],
            env=env, stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=tie,
        )


def _wait_until_ready(process: subprocess.Popen, uri: str, password: str, deadline: float,
                      home: Path, last: bool) -> bool:
    """True once the driver can connect; False if Neo4j exited because its port was taken
    (and another port may be tried); otherwise a Neo4jRuntimeError."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import Neo4jError, ServiceUnavailable

    while True:
        if process.poll() is not None:
            if not last and "already in use" in _log_tail(home, 200).lower():
                return False
            raise Neo4jRuntimeError(f"Neo4j exited with code {process.returncode}:\n{_log_tail(home)}")
        try:
            with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
                driver.verify_connectivity()
                driver.execute_query("RETURN 1", database_="neo4j")
            return True
        except (ServiceUnavailable, Neo4jError, OSError) as exc:
            if time.monotonic() > deadline:
                _terminate(process.pid)
                raise Neo4jRuntimeError(f"Neo4j did not answer in time:\n{_log_tail(home)}") from exc
            time.sleep(0.5)


def recover_server(recorded: dict, *, port: int | None = None,
                   heap: str | None = None, config: Settings | None = None) -> ServerInfo:
    """Start again on the database of a server that is no longer running (crash, reboot).

    Keeps its home and password, and its port when that is still free.
    """
    old = ServerInfo.from_dict(recorded)
    old_port = int(old.uri.rsplit(":", 1)[1])
    if port is None and _port_free(old_port):
        port = old_port
    return start_server(home=Path(old.home), password=old.password, port=port, heap=heap,
                        version=old.version, recover=True, config=config)


def _after_import(uri: str, password: str) -> None:
    """What the online loader does first and last: constraints, and a new graph version."""
    from pathways.config import Neo4jSettings
    from pathways.store.neo4j import Neo4jStore

    with Neo4jStore(Neo4jSettings(uri, "neo4j", password, "neo4j")) as store:
        store.after_bulk_import()


def _is_server(pid: int, home: str) -> bool:
    """Whether ``pid`` is alive and is the Neo4j of ``home`` (not a process that reused the pid)."""
    if not alive(pid):
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return f"--home-dir={home}".encode() in command


def _terminate(pid: int, wait: float = 60.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        if not alive(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def stop_server(info: ServerInfo | dict, remove_home: bool = True) -> None:
    """Stop a server started here and, by default, delete its data."""
    data = asdict(info) if isinstance(info, ServerInfo) else info
    if _is_server(int(data["pid"]), data["home"]):
        _terminate(int(data["pid"]))
    if remove_home:
        shutil.rmtree(data["home"], ignore_errors=True)


def recorded_state(config: Settings | None = None) -> dict | None:
    """What ``pathways neo4j start`` recorded about the local server, running or not."""
    return _settings(config).local_server_state()


def running_state(config: Settings | None = None) -> dict | None:
    """The recorded local server, if its process is still alive."""
    data = recorded_state(config)
    return data if data and _is_server(int(data["pid"]), data["home"]) else None


def recoverable_state(config: Settings | None = None) -> dict | None:
    """The recorded local server if it is not running but its database is still on disk."""
    data = recorded_state(config)
    if not data or _is_server(int(data["pid"]), data["home"]) or not has_database(data["home"]):
        return None
    return data
