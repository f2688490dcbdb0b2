"""Processes and processors: whether a process is still running (one check for everything
that records a pid), and how many processors are idle right now.

:func:`alive` is used by the local Neo4j runtime (is the recorded server alive?) and the Neo4j
store's load lease (did the process holding it end?); :func:`idle_cores` by the first load's
check (how many worker processes pay) and the Neo4j store's snapshot read (whether a second
read transaction has a core).
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """True while process ``pid`` runs; a zombie (exited, not yet reaped) is not alive.

    >>> alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
        return status != "Z"
    except OSError:
        return True  # no /proc (not Linux): existence is all we can tell


#: how long :func:`idle_cores` watches the processors
IDLE_SAMPLE_S = 0.15


def idle_cores(seconds: float = IDLE_SAMPLE_S) -> float | None:
    """How many processors were idle over the next ``seconds`` (from ``/proc/stat``: idle
    and waiting-for-disk time over all time), or ``None`` where that cannot be read."""
    first = _cpu_times()
    if first is None:
        return None
    time.sleep(seconds)
    second = _cpu_times()
    if second is None:
        return None
    total = second[0] - first[0]
    if total <= 0:
        return None
    return (os.cpu_count() or 1) * (second[1] - first[1]) / total


def _cpu_times() -> tuple[int, int] | None:
    """(all, idle) clock ticks of all processors so far, from ``/proc/stat``."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 6:
        return None
    ticks = [int(value) for value in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return sum(ticks), ticks[3] + ticks[4]
