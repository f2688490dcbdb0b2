"""Whether a process is still running: one check for everything that records a pid.

Used by the local Neo4j runtime (is the recorded server alive?) and the Neo4j store's load
lease (did the process holding it end?).
"""

from __future__ import annotations

import os
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
