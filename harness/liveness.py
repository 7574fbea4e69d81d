"""Whether the process that left something behind (an atomic write's temporary, a Snakemake
lock) is certainly gone, so that a rerun after a kill may remove it.

A process is stamped with its host, pid and start time (Linux: /proc/<pid>/stat, field 22).
It is gone only if the stamp is from this host and the pid no longer runs, is a zombie, or now
belongs to a process started at another time (a reused pid). Anything else, including a
stamp from another host of a cluster, counts as possibly alive: leftovers are then kept.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _start_time(pid: int) -> str | None:
    fields = _proc_stat(pid)
    return fields[19] if fields else None  # field 22 of stat; fields[0] is field 3


def this_process() -> dict[str, Any]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": _start_time(pid)}


def is_gone(stamp: dict[str, Any]) -> bool:
    """True only when the stamped process certainly no longer runs (see the module docstring)."""
    if stamp.get("host") != socket.gethostname() or not isinstance(stamp.get("pid"), int):
        return False
    pid = stamp["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # another user's live process
    fields = _proc_stat(pid)
    if fields is None:
        return False  # no /proc: the pid runs, and nothing tells whether it is the stamped process
    return fields[0] == "Z" or (stamp.get("start") is not None and fields[19] != stamp["start"])
