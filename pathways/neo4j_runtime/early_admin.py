"""neo4j-admin started before its input files exist, so its JVM's start-up overlaps the check.

``pathways neo4j start --import`` (and ``load --import``) check every row and write the
importer's files in one pass (:mod:`.bulk`); neo4j-admin can only read them once they are
written (it opens each input file several times, so no pipes).  With a core idle, its JVM is
started during the check with the single argument ``@/dev/stdin`` (:class:`EarlyAdmin`) and
given its real arguments once the files are written (:func:`.bulk.run_import`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def admin_env(home: Path) -> dict[str, str]:
    """The environment of a neo4j-admin run for the server in ``home``."""
    return dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))


# picocli (neo4j-admin's parser) reads an @-file's arguments split at white space, with
# quotes and comments: arguments of only these characters are read as they are written
_PLAIN_ARGUMENT = re.compile(r"[A-Za-z0-9_./:;=%+,-]+")


class EarlyAdmin:
    """neo4j-admin's JVM started before its input files exist, so its start-up (a few
    seconds of loading classes) overlaps the check that writes them.

    It is started with the single argument ``@/dev/stdin``: picocli, neo4j-admin's parser,
    reads an argument file to its end before doing anything, so the process reads no
    configuration and touches no file until :meth:`run` writes its arguments and closes its
    stdin.  :meth:`cancel` kills it (a row was refused: nothing was written); if this
    process dies first, the JVM's stdin closes empty and it exits with its usage message.
    """

    def __init__(self, java: str, jvm_flags: Sequence[str], classpath: str, home: Path):
        self.key = (java, tuple(jvm_flags), classpath, Path(home))
        self.process: subprocess.Popen | None = subprocess.Popen(
            [java, *jvm_flags, "-cp", classpath, "org.neo4j.cli.AdminTool", "@/dev/stdin"],
            env=admin_env(Path(home)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

    def run(self, args: Sequence[str]) -> subprocess.CompletedProcess | None:
        """Give it ``args`` and wait for it; ``None`` when it cannot take them (an argument
        picocli would read otherwise, or the process has already ended)."""
        process = self.process
        if (process is None or process.poll() is not None
                or not all(_PLAIN_ARGUMENT.fullmatch(arg) for arg in args)):
            return None
        self.process = None
        try:
            out, err = process.communicate("\n".join(args) + "\n")
        except BrokenPipeError:  # it ended just now: read what it said
            out, err = process.communicate()
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def cancel(self) -> None:
        """End it if :meth:`run` did not (idempotent)."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.communicate()


#: idle cores (a moment's sample) from which neo4j-admin is started during the check
EARLY_ADMIN_IDLE = 1.0


def admin_early_pays(idle: float | None) -> bool:
    """Whether starting neo4j-admin during the check pays, with ``idle`` cores idle (see
    :func:`pathways.processes.idle_cores`): its JVM takes 1.3-1.4 s of CPU to start
    (measured); with a core idle that comes off the import's time, on a busy machine it
    only slows the check (measured at load 7-10: the check 9.4 -> 14.1 s, neo4j-admin no
    faster)."""
    return idle is not None and idle >= EARLY_ADMIN_IDLE


def start_admin_early(java: str, jvm_flags: Sequence[str], classpath: str,
                      home: Path) -> EarlyAdmin | None:
    """neo4j-admin started now for an import into ``home`` (see :class:`EarlyAdmin`), or
    ``None`` where a process cannot read its arguments from ``/dev/stdin``."""
    if not sys.platform.startswith("linux") or not Path("/dev/stdin").exists():
        return None
    return EarlyAdmin(java, jvm_flags, classpath, home)
