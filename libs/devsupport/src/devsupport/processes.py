"""Child processes the tests and benchmarks start, and stop as a whole."""

import os
import signal
import socket
import subprocess
import time


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something accepts connections on the loopback ``port``."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def own_process_group() -> None:
    """preexec_fn of a child stopped as a whole: its own process group, and the default
    SIGINT/SIGTERM handling a child of a non-interactive shell would otherwise inherit as ignored."""
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stop_group(process: subprocess.Popen, signum: int = signal.SIGTERM, *, group: bool = False,
               timeout: float = 30) -> list[str]:
    """Stop a child started with ``own_process_group`` and every process it started: ``signum`` to
    it (with ``group``, to its whole process group, as a terminal's Ctrl-C), then SIGKILL to what
    of its process tree still runs ``timeout`` seconds later. Returns the command lines of those
    (none: it stopped everything it started by itself)."""
    import psutil

    try:
        started = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    try:
        (os.killpg if group else os.kill)(process.pid, signum)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    while (alive := _running(started)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [" ".join(proc.cmdline()[:6]) for proc in ([psutil.Process(process.pid)] if process.poll() is None else []) + alive]
    for proc in alive:
        proc.kill()
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    return left


def _running(processes: list) -> list:
    """Those of ``processes`` (psutil) still running: not ended, not a zombie waiting for its parent."""
    import psutil

    running = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                running.append(proc)
        except psutil.NoSuchProcess:
            pass
    return running


def wait_until(condition, what: str, timeout: float = 300, interval: float = 0.5):
    """``condition()``'s first truthy value, polled every ``interval`` seconds; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}")
