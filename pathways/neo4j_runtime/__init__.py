"""A throwaway Neo4j Community 5.26 LTS server on loopback, for development, tests and CI.

How it works (no Docker, no tarball):

1. ``ensure_jars()`` asks Maven to resolve ``org.neo4j:neo4j`` (the pom beside this file)
   from Maven Central and copy every jar into ``$PATHWAYS_CACHE/neo4j-<version>/lib``, once.
2. ``start_server()`` makes a fresh home directory with its own ``conf/neo4j.conf`` (Bolt on
   127.0.0.1 and a free port, HTTP off), sets the initial password with Neo4j's own
   ``AdminTool``, and runs ``org.neo4j.server.CommunityEntryPoint`` on Java 17+ in its own
   process group, then waits until the driver can connect.
3. ``stop_server()`` sends SIGTERM (Neo4j shuts down cleanly), then SIGKILL after a wait,
   and removes the throwaway home.

Neo4j Community is GPLv3; it is downloaded as a dependency, never committed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pathways.config import pathways_home
from pathways.errors import Neo4jRuntimeError

NEO4J_VERSION = os.environ.get("PATHWAYS_NEO4J_VERSION", "5.26.0")
DEFAULT_PASSWORD = "pathways-dev"  # loopback-only throwaway server, not a secret
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

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")


def state_file() -> Path:
    return pathways_home() / "neo4j" / "server.json"


def cache_dir() -> Path:
    """Where downloaded jars are kept: ``$PATHWAYS_CACHE`` or the user's cache dir."""
    given = os.environ.get("PATHWAYS_CACHE")
    if given:
        return Path(given).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("thriving-pathways", appauthor=False))


def lib_dir(version: str = NEO4J_VERSION) -> Path:
    return cache_dir() / f"neo4j-{version}" / "lib"


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise Neo4jRuntimeError("Java 17 or newer is needed to run Neo4j; none found on PATH")
    return found


def ensure_jars(version: str = NEO4J_VERSION, quiet: bool = True) -> Path:
    """Resolve Neo4j's jars from Maven Central into the cache (once); return the folder."""
    target = lib_dir(version)
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_config(home: Path, port: int, heap: str, pagecache: str) -> None:
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
        "server.directories.data": str(home / "data"),
        "server.directories.logs": str(home / "logs"),
        "server.directories.run": str(home / "run"),
        "server.directories.plugins": str(home / "plugins"),
        "server.directories.import": str(home / "import"),
        "server.memory.heap.initial_size": heap,
        "server.memory.heap.max_size": heap,
        "server.memory.pagecache.size": pagecache,
        "dbms.usage_report.enabled": "false",
        "db.tx_log.rotation.retention_policy": "1 files",
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


def start_server(
    *,
    password: str = DEFAULT_PASSWORD,
    port: int | None = None,
    home: Path | None = None,
    heap: str | None = None,
    pagecache: str | None = None,
    timeout: float = 180.0,
    version: str = NEO4J_VERSION,
    import_plan=None,
) -> ServerInfo:
    """Start a fresh Neo4j on 127.0.0.1; return once the driver can connect.

    Heap and page cache default to ``$PATHWAYS_NEO4J_HEAP`` (1g) and
    ``$PATHWAYS_NEO4J_PAGECACHE`` (256m): enough for a partnership, raise them for a
    national directory.  ``import_plan`` (a validated :class:`loaders.living_db.LoadPlan`)
    is bulk-imported with neo4j-admin before the server starts (see :mod:`.bulk`).
    """
    from neo4j import GraphDatabase
    from neo4j.exceptions import Neo4jError, ServiceUnavailable

    heap = heap or os.environ.get("PATHWAYS_NEO4J_HEAP", "1g")
    pagecache = pagecache or os.environ.get("PATHWAYS_NEO4J_PAGECACHE", "256m")
    began = time.monotonic()
    libs = ensure_jars(version)
    java = java_executable()
    if home is None:
        base = pathways_home() / "neo4j"
        base.mkdir(parents=True, exist_ok=True)
        home = Path(tempfile.mkdtemp(prefix="server-", dir=base))
    port = port or free_port()
    _write_config(home, port, heap, pagecache)
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
    classpath = f"{libs}/*"
    admin = subprocess.run(
        [java, *JVM_FLAGS, "-cp", classpath, "org.neo4j.cli.AdminTool",
         "dbms", "set-initial-password", password],
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
    console = (home / "console.log").open("w")
    process = subprocess.Popen(
        [java, f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS, "-cp", classpath,
         "org.neo4j.server.CommunityEntryPoint",
         f"--home-dir={home}", f"--config-dir={home / 'conf'}"],
        env=env, stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    console.close()
    uri = f"bolt://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise Neo4jRuntimeError(f"Neo4j exited with code {process.returncode}:\n{_log_tail(home)}")
        try:
            with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
                driver.verify_connectivity()
                driver.execute_query("RETURN 1", database_="neo4j")
            break
        except (ServiceUnavailable, Neo4jError, OSError):
            if time.monotonic() > deadline:
                _terminate(process.pid)
                raise Neo4jRuntimeError(f"Neo4j did not answer within {timeout:.0f}s:\n{_log_tail(home)}")
            time.sleep(0.5)
    if import_plan is not None:
        _after_import(uri, password)
    return ServerInfo(uri, "neo4j", password, process.pid, str(home), version,
                      round(time.monotonic() - began, 2), imported_rows, round(import_seconds, 2))


def _after_import(uri: str, password: str) -> None:
    """What the online loader does first and last: constraints, and a new graph version."""
    from pathways.config import Neo4jSettings
    from pathways.store.neo4j import Neo4jStore

    with Neo4jStore(Neo4jSettings(uri, "neo4j", password, "neo4j")) as store:
        store.after_bulk_import()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not alive.
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
        return status != "Z"
    except OSError:
        return True


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
        if not _alive(pid):
            return
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_server(info: ServerInfo | dict, remove_home: bool = True) -> None:
    """Stop a server started here and, by default, delete its throwaway data."""
    data = asdict(info) if isinstance(info, ServerInfo) else info
    _terminate(int(data["pid"]))
    if remove_home:
        shutil.rmtree(data["home"], ignore_errors=True)


def running_state() -> dict | None:
    """The recorded local server, if its process is still alive."""
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if _alive(int(data["pid"])) else None
