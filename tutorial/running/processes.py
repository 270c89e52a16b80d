"""Helpers for the servers the course starts: a free port, a wait until one answers,
their output read line by line without waiting for them to end, a wait for a child
that handles Ctrl-C itself, and SIGTERM and SIGHUP treated as Ctrl-C."""

import signal
import socket
import threading
import time
import urllib.error
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(port, timeout=20):
    """Wait until the step served on 127.0.0.1:``port`` answers /admin/login/ (every step
    has the admin); TimeoutError if it does not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise TimeoutError(f"the server on port {port} did not answer within {timeout} s")


def read_until(process, text, timeout=30):
    """Read the process's output until a line contains ``text``; return all it read.

    The reading happens in a thread, so that a process that goes quiet cannot hold the
    caller past ``timeout``: then TimeoutError says what was read, and the caller stops
    the process (which ends the thread).
    """
    seen, found = [], threading.Event()

    def read():
        for line in iter(process.stdout.readline, ""):
            seen.append(line)
            if text in line:
                found.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found.is_set():
        raise TimeoutError(f"never printed {text!r} within {timeout} s:\n{''.join(seen)}")
    return "".join(seen)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: stop as for Ctrl-C, but the children were not told."""


def stop_on_termination():
    """`kill`, `timeout`, a process manager or an IDE's stop button (SIGTERM), and a
    closed terminal (SIGHUP), stop this process as Ctrl-C does: KeyboardInterrupt."""

    def interrupt(signal_number, frame):
        raise Terminated

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), interrupt)


def wait_through_ctrl_c(process):
    """Wait for a child that gets the terminal's Ctrl-C too; it decides how to stop.

    A SIGTERM or SIGHUP reaches this process alone: the child gets a SIGTERM of its own.
    Returns its exit status, and whether this process was interrupted while waiting.
    """
    interrupted = False
    while True:
        try:
            return process.wait(), interrupted
        except KeyboardInterrupt as interruption:
            interrupted = True
            if isinstance(interruption, Terminated) and process.poll() is None:
                process.terminate()
