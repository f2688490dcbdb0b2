"""`--import` starts neo4j-admin while the check runs (issue 18 item 4).

neo4j-admin's JVM spends seconds loading classes before it reads anything; started with
``@/dev/stdin`` it does that during the check, then waits for its arguments
(``pathways.neo4j_runtime.early_admin.EarlyAdmin``).  What users must still get: a bad row
refused before anything is imported, with nothing left behind (no process, no server
folder); the same import as a neo4j-admin started afterwards; and no JVM left waiting if
this process dies or the arguments cannot be passed that way.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import loaders.living_stream as stream
from pathways import neo4j_runtime as rt
from pathways.neo4j_runtime import bulk, early_admin
from tests.conftest import write_folder

pytestmark = pytest.mark.neo4j

NOW = "2026-12-01T05:00:00+00:00"


def admin_processes() -> list[list[str]]:
    """The command lines of this process's children running neo4j-admin (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().decode().split("\0")[:-1]
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and "org.neo4j.cli.AdminTool" in command and not ended(
                int(entry.name)):
            found.append(command)
    return found


def ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie no one reaps counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def gone(pid: int, within: float = 60.0) -> bool:
    """Whether process ``pid`` ends within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if ended(pid):
            return True
        time.sleep(0.2)
    return False


def imported(output: str) -> list[str]:
    """neo4j-admin's summary: the counts of nodes, relationships and properties."""
    return re.findall(r"^\s*(\d+ (?:nodes|relationships|properties))\s*$", output, re.M)


@pytest.fixture
def seen_during_check(monkeypatch) -> list[list[str]]:
    """The neo4j-admin processes running when the check (``bulk.prepare_import``) began."""
    seen: list[list[str]] = []
    check = bulk.prepare_import

    def watched(*args, **kwargs):
        seen.extend(admin_processes())
        return check(*args, **kwargs)

    monkeypatch.setattr(bulk, "prepare_import", watched)
    return seen


def test_a_refused_row_ends_the_early_neo4j_admin_and_leaves_nothing(
        tmp_path, local_neo4j_home, monkeypatch, seen_during_check):
    from pathways.cli import cli

    monkeypatch.setattr(early_admin, "admin_early_pays", lambda _idle: True)  # however busy the box
    admin_when_cores_counted: list[list[list[str]]] = []
    count_cores = stream.check_workers

    def counted(idle=None) -> int:  # the check's workers are decided before the JVM starts
        admin_when_cores_counted.append(admin_processes())
        return count_cores(idle)

    monkeypatch.setattr(stream, "check_workers", counted)
    folder = write_folder(tmp_path / "bad", {
        "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"]],
        "services": [["id", "name"], ["svc", "Arts on Prescription"]],
        "relationships": [["source_id", "type", "target_id"],
                          ["lw", "REFERS_TO", "svc"], ["lw", "REFERS_TO", "nowhere"]],
    })
    result = CliRunner().invoke(cli, ["load", "--import", str(folder)])
    assert result.exit_code != 0
    message = str(result.exception) + result.output
    assert "relationships.csv, row 3, column 'target_id'" in message and "nowhere" in message
    # neo4j-admin was running while the rows were checked, waiting for its arguments ...
    assert len(seen_during_check) == 1 and seen_during_check[0][-1] == "@/dev/stdin"
    assert admin_when_cores_counted == [[]]
    # ... and nothing is left: no neo4j-admin, no server, no folder for one, no files
    assert admin_processes() == []
    assert rt.running_state() is None
    assert not (local_neo4j_home / "neo4j").exists()
    assert [p.name for p in local_neo4j_home.iterdir()] == []


def test_on_a_busy_machine_neo4j_admin_starts_after_the_check(tmp_path, local_neo4j_home,
                                                             monkeypatch, seen_during_check):
    """No core idle: the JVM's start would only slow the check, so it waits (and a refused
    row still leaves nothing)."""
    import pathways.processes as processes
    from pathways.cli import cli

    monkeypatch.setattr(processes, "idle_cores", lambda *_args: 0.3)
    folder = write_folder(tmp_path / "bad", {
        "people": [["id", "name", "role"], ["lw", "Lee Walker", "link_worker"]],
        "relationships": [["source_id", "type", "target_id"], ["lw", "REFERS_TO", "nowhere"]],
    })
    result = CliRunner().invoke(cli, ["load", "--import", str(folder)])
    assert result.exit_code != 0 and "nowhere" in str(result.exception) + result.output
    assert seen_during_check == [] and admin_processes() == []
    assert [p.name for p in local_neo4j_home.iterdir()] == []
    assert early_admin.admin_early_pays(1.9) and not early_admin.admin_early_pays(0.3)
    assert not early_admin.admin_early_pays(None)


@pytest.fixture
def import_files(tmp_path, demo_dir) -> bulk.ImportFiles:
    rt.ensure_jars()
    return bulk.prepare_import([demo_dir], tmp_path / "files", NOW, workers=1)


def neo4j_home(folder: Path) -> Path:
    folder.mkdir(parents=True)
    rt._write_config(folder, rt.free_port(), "512m", "128m", None)
    return folder


def test_an_early_neo4j_admin_imports_what_a_late_one_does(tmp_path, import_files):
    java, classpath = rt.java_executable(), f"{rt.ensure_jars()}/*"
    late = bulk.run_import(java, rt.JVM_FLAGS, classpath, neo4j_home(tmp_path / "late"),
                           import_files)
    home = tmp_path / "early"
    home.mkdir()
    early = early_admin.start_admin_early(java, rt.JVM_FLAGS, classpath, home)
    assert early is not None and early.process is not None
    waiting = early.process.pid
    time.sleep(1)
    assert not ended(waiting) and not (home / "data").exists()  # nothing done yet
    rt._write_config(home, rt.free_port(), "512m", "128m", None)  # written after it started
    import_files.admin = early
    output = bulk.run_import(java, rt.JVM_FLAGS, classpath, home, import_files)
    assert gone(waiting) and import_files.admin is None
    assert "IMPORT DONE" in output
    assert imported(output) == imported(late) and len(imported(late)) == 3
    assert (home / "data" / "databases" / "neo4j").is_dir()


def test_arguments_it_cannot_pass_start_a_new_neo4j_admin(tmp_path, demo_dir):
    """A path picocli would split (a space in it): the early JVM is ended and a new
    neo4j-admin takes the arguments on its command line."""
    java, classpath = rt.java_executable(), f"{rt.ensure_jars()}/*"
    files = bulk.prepare_import([demo_dir], tmp_path / "with space", NOW, workers=1)
    home = tmp_path / "home"
    home.mkdir()
    early = early_admin.start_admin_early(java, rt.JVM_FLAGS, classpath, home)
    assert early is not None and early.process is not None
    waiting = early.process.pid
    rt._write_config(home, rt.free_port(), "512m", "128m", None)
    files.admin = early
    output = bulk.run_import(java, rt.JVM_FLAGS, classpath, home, files)
    assert gone(waiting, within=10)
    assert "IMPORT DONE" in output and len(imported(output)) == 3


def test_an_early_neo4j_admin_ends_when_the_process_that_started_it_dies(tmp_path):
    rt.ensure_jars()
    home = tmp_path / "home"
    home.mkdir()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pathways import neo4j_runtime as rt\n"
        "from pathways.neo4j_runtime import early_admin\n"
        f"early = early_admin.start_admin_early(rt.java_executable(), rt.JVM_FLAGS,"
        f" f'{{rt.ensure_jars()}}/*', Path({str(home)!r}))\n"
        "print(early.process.pid, flush=True)\n"
        "import os; os._exit(0)\n"  # dies without ending it
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=120)
    assert done.returncode == 0, done.stderr
    assert gone(int(done.stdout.split()[-1]))
    assert not (home / "data").exists()  # it read no arguments: it did nothing
