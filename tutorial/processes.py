"""Reading a running process's output, line by line, without waiting for it to end."""

import time


def read_until(process, text, timeout=30):
    """Read the process's output until a line contains ``text``; return all it read.

    Raises TimeoutError, with what was read, when the text never comes.
    """
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise TimeoutError(f"never printed {text!r}:\n{''.join(seen)}")
