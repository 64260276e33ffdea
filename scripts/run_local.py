"""`make run`: the development server and the task worker side by side.

One command starts both and Ctrl-C stops both; if either exits on its own (a port in use,
a crash), the other is stopped too, so the worker never lingers behind a dead server.
Each runs in its own process group: Django's autoreloader runs the real process as a
child, and the group reaches that child too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOP_SECONDS = 15  # the worker finishes the task in hand (an SMTP exchange) first


def start(*arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 (manage.py commands of our own)
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        start_new_session=True,
    )


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGINT to each group (what Ctrl-C sends), then SIGKILL to what is left."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(address: str) -> int:
    signal.signal(signal.SIGTERM, interrupt)  # `kill` stops both, as Ctrl-C does
    processes = [start("db_worker"), start("runserver", address)]
    server = processes[1]
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop(processes)
    return server.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8000"))
