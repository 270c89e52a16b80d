"""Run a few long-lived processes together (a web server and a task worker, say).

Each line they print is shown with the process's label in front. Ctrl-C (or SIGTERM or
SIGHUP, which the CLI turns into Ctrl-C), or the end of any one of them, stops them all,
and nothing is left running.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

# Long enough for a task in flight to end: the steps' emails time out after 10 s.
STOP_SECONDS = 15
# After that, a second Ctrl-C: RQ's worker then kills its work horse, a process group
# of its own that no signal to the worker's group reaches, before it exits.
FORCED_STOP_SECONDS = 3


def run_together(commands, cwd, env):
    """Run ``{label: argv}`` until Ctrl-C or until one exits; return that exit status.

    One command alone writes straight to the terminal, with no label.
    """
    width = max(map(len, commands))
    print_lock = threading.Lock()
    alone = len(commands) == 1
    processes = {
        label: subprocess.Popen(
            argv,
            cwd=cwd,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=None if alone else subprocess.PIPE,
            stderr=None if alone else subprocess.STDOUT,
            text=True,
            # A group of its own: runserver's reloader has a child that must stop too,
            # and Ctrl-C reaches only this process, which then stops each group in turn.
            start_new_session=os.name != "nt",
        )
        for label, argv in commands.items()
    }
    readers = [
        threading.Thread(target=copy_lines, args=(process, f"{label:<{width}} | ", print_lock))
        for label, process in processes.items()
        if not alone
    ]
    for reader in readers:
        reader.start()
    try:
        status = wait_for_the_first(processes.values())
    except KeyboardInterrupt:
        status = 0
    finally:
        stop_all(processes.values())
        for reader in readers:
            reader.join()
    return status


def copy_lines(process, prefix, print_lock):
    for line in process.stdout:
        with print_lock:
            sys.stdout.write(prefix + line)
            sys.stdout.flush()


def wait_for_the_first(processes):
    while True:
        for process in processes:
            if process.poll() is not None:
                return process.returncode
        time.sleep(0.2)


def stop_all(processes):
    """Ask each process to stop as Ctrl-C does, then insist, then make sure that it has."""
    for process in processes:
        send(process, signal.SIGINT)
    wait_for_all(processes, STOP_SECONDS)
    for process in processes:
        send(process, signal.SIGINT)
    wait_for_all(processes, FORCED_STOP_SECONDS)
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
        if os.name != "nt":
            # Whatever the process started (runserver's server, say) goes with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def wait_for_all(processes, seconds):
    deadline = time.monotonic() + seconds
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))


def send(process, signal_number):
    """To the process's whole group, where there are groups, while it runs."""
    if process.poll() is not None:
        return
    if os.name == "nt":
        process.terminate()
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal_number)
