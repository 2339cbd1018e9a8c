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


def stop_group(process: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM to a child started with ``own_process_group`` (`dg dev` stops what it started, as on
    Ctrl-C), then SIGKILL to whatever is left of its group."""
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def wait_until(condition, what: str, timeout: float = 300, interval: float = 0.5):
    """``condition()``'s first truthy value, polled every ``interval`` seconds; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}")
