"""Helpers for the servers the course starts: a free port, and their output read line by
line without waiting for them to end."""

import socket
import threading


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
