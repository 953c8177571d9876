"""Child processes that die with their parent, even when the parent is killed with SIGKILL.

Sweep workers and the browser view's web server are child processes.  Without this, a
``kill -9`` of ``adoptsim sweep`` left its workers running (about 310 MB each) and a
killed ``adoptsim viz`` left its server holding the port.  Linux's
``prctl(PR_SET_PDEATHSIG, SIGKILL)`` has the kernel kill the child when its parent
dies; where it is not available a thread watches the parent instead.
"""

from __future__ import annotations

import os
import signal
import threading
import time

PR_SET_PDEATHSIG = 1


def _ask_kernel() -> bool:
    """prctl(PR_SET_PDEATHSIG, SIGKILL) for this process; True if the kernel agreed."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: int | None = None) -> None:
    """Call in a child process (a pool worker's initializer): it dies with its parent.

    ``parent``: the parent's pid as the parent saw it (pass ``os.getpid()`` through the
    initializer's arguments): a child that starts after its parent was killed then exits
    at once instead of running on as an orphan.
    """
    parent = os.getppid() if parent is None else parent
    if os.getppid() != parent:
        os._exit(1)
    if _ask_kernel():
        if os.getppid() != parent:  # the parent died before the call took effect
            os._exit(1)
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="adoptsim-parent-watch").start()


def before_exec() -> None:
    """``preexec_fn`` for ``subprocess.Popen``: the program run dies with this process
    (the kernel's setting survives exec; a watching thread would not)."""
    _ask_kernel()
