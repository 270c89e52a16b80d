"""Python commands forked from a preloaded interpreter, behind subprocess's interface.

Each Python process pays for the interpreter's start and its imports, and `make test`
starts hundreds. preloaded_interpreter() starts one interpreter (server.py) that has
imported pytest, much of the standard library and the Django modules that connect no
receiver (see PRELOADED_MODULES), and forks a child per command; Popen and run() ask
it for their Python commands when one serves this process tree, and start a fresh
process otherwise (or when the command asks for anything a fork cannot give exactly:
another interpreter, other startup settings, a process group of another session).

A forked child sees what a fresh process would: its own environment (TZ included),
working directory, umask, sys.path, sys.argv, standard streams, signal handlers and
mask, in the caller's process group, so that Ctrl-C reaches it as before; the caller
gets its pid and exit status. What still differs, and no test here depends on: the
children share the server's hash seed (set iteration order), resource limits and nice
value; their parent is the server (os.getppid()); sys.orig_argv names the server and
sys.flags are the server's (sys.dont_write_bytecode follows the child's environment);
glibc's signals 32 and 33, which Python cannot set, keep the server's handling. A
folder on the child's sys.path that holds a module named like one the server imported
(a project's secrets.py) makes the server refuse: that command starts afresh, and
imports the project's module as a fresh one would.

Started afresh, on purpose: what a learner runs as a real command line (`make step-N`'s
runserver and its reloader, uvicorn, the task workers; the steps' own tests start their
workers with subprocess, since a step never imports tutorial), whatever runs on a
pseudo-terminal of its own (another session: a fork cannot join it), notebook kernels
and JupyterLab, and commands with interpreter options (-W, -X, -S) or other startup
variables.
"""

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

SERVER_VARIABLE = "TUTORIAL_PRELOADED"
# Set to 1, every command starts afresh: to compare, or to rule the fork out.
FRESH_VARIABLE = "TUTORIAL_FRESH_PROCESSES"
SERVER_SCRIPT = Path(__file__).with_name("server.py")
# Imported once by the server. Django connects receivers as some of its modules are
# imported (django.db, django.core.handlers.base, django.test.signals, ...): preloaded,
# those would come before the project's in a child, and a signal's receivers would run
# in another order than in a fresh process. So only modules that connect none are
# preloaded, which the server checks before it serves. pytest-django is left out too:
# pytest wants to rewrite its asserts, and warns when it was imported before.
PRELOADED_MODULES = (
    # pytest, and what the course's commands import from the standard library
    *("pytest", "asyncio", "concurrent.futures", "csv", "difflib", "email.mime.multipart"),
    *("email.mime.text", "http.client", "logging.config", "multiprocessing", "pdb"),
    *("sqlite3", "unittest.mock", "urllib.request", "uuid", "wsgiref.simple_server"),
    *("xml.dom.minidom", "zoneinfo"),
    # packages that Django and the steps use
    *("asgiref.sync", "jinja2", "PIL.Image", "pygments.formatters.terminal"),
    *("pygments.lexers.python", "sqlparse"),
    # Django's modules that connect no receiver as they are imported
    *("django.apps", "django.conf", "django.contrib.messages.apps"),
    *("django.contrib.sessions.backends.base", "django.contrib.sites.shortcuts"),
    *("django.core.files.storage", "django.core.files.uploadhandler"),
    *("django.core.mail.backends.locmem", "django.utils.formats", "django.utils.timesince"),
    "django.utils.xmlutils",
)
# Read by the server itself from the environment of each child (see server.py).
APPLIED_IN_THE_CHILD = {
    "PYTHONPATH",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
    "PYTHONUNBUFFERED",
}
MAX_ANSWER = 4096


def startup_settings(environment):
    """What an interpreter reads from its environment before any code runs, and a fork
    would inherit from the server instead: the locale and the PYTHON* variables."""
    return {
        name: value
        for name, value in environment.items()
        if (name.startswith("PYTHON") and name not in APPLIED_IN_THE_CHILD)
        or name in {"LANG", "LC_ALL", "LC_CTYPE"}
    }


def can_fork():
    return hasattr(os, "fork") and hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")


@contextlib.contextmanager
def preloaded_interpreter(python=sys.executable, modules=PRELOADED_MODULES):
    """While the block runs, this process and its descendants fork their Python commands
    from one interpreter that has imported ``modules``."""
    serving = json.loads(os.environ.get(SERVER_VARIABLE, "{}"))
    fresh = os.environ.get(FRESH_VARIABLE) == "1" or not can_fork()
    same = serving.get("preloads") == [python, *modules]
    if fresh or (same and serving["session"] == os.getsid(0)):
        yield  # the server this process tree has already does
        return
    folder = tempfile.mkdtemp(prefix="tutorial-preloaded-")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        address = os.path.join(folder, "socket")
        listener.bind(address)
        listener.listen(64)
        environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
        server = subprocess.Popen(
            [python, str(SERVER_SCRIPT), str(listener.fileno()), *modules],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=environment,
            pass_fds=[listener.fileno()],
        )
        listener.close()  # the server's now: if it dies, a connection is refused at once
        description = {
            "address": address,
            "python": python,
            "preloads": [python, *modules],
            "session": os.getsid(0),
            "startup": startup_settings(environment),
        }
        with environment_variable(SERVER_VARIABLE, json.dumps(description)):
            try:
                yield
            finally:
                server.stdin.close()  # its lifeline: it ends after the children it runs
                server.wait()
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def environment_variable(name, value):
    earlier = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if earlier is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = earlier


def fork_request(args, cwd, env, new_session):
    """The request the server needs to fork ``args``, or None if a fresh process must
    run it (the server may still refuse: see server.shadowed())."""
    description = os.environ.get(SERVER_VARIABLE)
    if not description or isinstance(args, (str, bytes)) or not args:
        return None
    server = json.loads(description)
    arguments = [os.fsdecode(arg) for arg in args]
    command = python_command(arguments, server["python"])
    environment = {
        os.fsdecode(name): os.fsdecode(value)
        for name, value in (os.environ if env is None else env).items()
    }
    folder = os.path.abspath(os.fsdecode(cwd)) if cwd is not None else os.getcwd()
    if (
        command is None
        or environment.get(FRESH_VARIABLE) == "1"
        or startup_settings(environment) != server["startup"]
        or os.getsid(0) != server["session"]
        # What subprocess reports in the caller, and the interpreter before any code runs:
        or not os.path.isdir(folder)
        or any("\0" in argument for argument in arguments)
        or (
            command["kind"] == "script"
            and not os.path.isfile(os.path.join(folder, command["target"]))
        )
    ):
        return None
    unbuffered = command.pop("unbuffered")
    return {
        "address": server["address"],
        "command": command,
        "cwd": folder,
        "env": environment,
        "unbuffered": unbuffered,
        "process_group": os.getpgrp(),
        "new_session": bool(new_session),
        "umask": current_umask(),
        # A fresh process inherits both through exec (subprocess resets SIGPIPE and
        # SIGXFSZ, which the interpreter then ignores on its own). glibc's own signals,
        # 32 and 33, are not valid_signals(): Python cannot see or set them.
        "ignored_signals": [
            int(number)
            for number in signal.valid_signals() - {signal.SIGPIPE, signal.SIGXFSZ}
            if signal.getsignal(number) == signal.SIG_IGN
        ],
        "blocked_signals": [int(number) for number in signal.pthread_sigmask(signal.SIG_BLOCK, [])],
    }


def current_umask():
    """Read, not set and set back: os.umask() would hand the caller's other threads a
    different mask meanwhile."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("Umask:"))
    return int(line.split()[1], 8)


def python_command(args, python):
    """``python [-u] -m MODULE …``, ``-c CODE …`` or ``SCRIPT.py …`` as a dict; else None."""
    if args[0] != python:
        return None
    rest, unbuffered = args[1:], False
    if rest[:1] == ["-u"]:
        rest, unbuffered = rest[1:], True
    if len(rest) >= 2 and rest[0] in ("-m", "-c"):
        kind = "module" if rest[0] == "-m" else "code"
        target, arguments = rest[1], rest[2:]
    elif rest and rest[0].endswith(".py"):
        kind, target, arguments = "script", rest[0], rest[1:]
    else:
        return None
    return {"kind": kind, "target": target, "arguments": arguments, "unbuffered": unbuffered}


class Popen(subprocess.Popen):
    """subprocess.Popen whose Python commands are forked from the preloaded interpreter
    when one serves this process tree and the command allows it (see fork_request)."""

    forked = False  # whether the preloaded interpreter forked this process
    _server_connection = None

    def _execute_child(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env,
                       startupinfo, creationflags, shell, p2cread, p2cwrite, c2pread,
                       c2pwrite, errread, errwrite, restore_signals, gid, gids, uid, umask,
                       start_new_session, process_group=None):  # fmt: skip
        # Anything but the defaults would need a process set up otherwise than the server does.
        plain = close_fds and not (executable or preexec_fn or pass_fds or shell or gids)
        plain = plain and gid is None and uid is None and umask < 0 and process_group in (None, -1)
        request = fork_request(args, cwd, env, start_new_session) if plain else None
        connection = request and connect(request.pop("address"))
        if connection:
            fds = [
                p2cread if p2cread != -1 else 0,
                c2pwrite if c2pwrite != -1 else 1,
                errwrite if errwrite != -1 else 2,
            ]
            pid = ask_for_a_fork(connection, request, fds)
            if pid is not None:
                self.pid, self._child_created, self.forked = pid, True, True
                self._server_connection = connection
                self._close_pipe_fds(p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite)
                return
            connection.close()
        since_3_11 = [process_group] if sys.version_info >= (3, 11) else []
        super()._execute_child(
            args, executable, preexec_fn, close_fds, pass_fds, cwd, env, startupinfo,
            creationflags, shell, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite,
            restore_signals, gid, gids, uid, umask, start_new_session, *since_3_11,
        )  # fmt: skip

    def _try_wait(self, wait_flags):
        if self._server_connection is None:
            return super()._try_wait(wait_flags)
        return self._status_from_server(self.pid, wait_flags)

    def _internal_poll(self, _deadstate=None, **_ignored):
        if self._server_connection is None:
            return super()._internal_poll(_deadstate)
        if self.returncode is None and self._waitpid_lock.acquire(False):
            try:
                if self.returncode is None:
                    pid, status = self._status_from_server(self.pid, os.WNOHANG)
                    if pid == self.pid:
                        self._handle_exitstatus(status)
            finally:
                self._waitpid_lock.release()
        return self.returncode

    def _status_from_server(self, pid, wait_flags):
        """os.waitpid()'s answer, from the server, which waited for its child."""
        connection = self._server_connection
        connection.setblocking(not wait_flags & os.WNOHANG)
        try:
            message = connection.recv(MAX_ANSWER)
        except BlockingIOError:
            return 0, 0
        if message:
            status = json.loads(message)["status"]
        elif ended(pid, wait_flags):  # the server was killed: the child's status is lost
            status = 255 << 8
        else:
            return 0, 0
        connection.close()
        self._server_connection = None
        return pid, status


def ended(pid, wait_flags):
    """Whether a process that is not this one's child has ended (waiting for it unless
    WNOHANG)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    timeout = 0 if wait_flags & os.WNOHANG else None
    try:
        return bool(select.select([pidfd], [], [], timeout)[0])
    finally:
        os.close(pidfd)


def connect(address):
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        connection.connect(address)
    except OSError:  # the server has ended: a fresh process it is
        connection.close()
        return None
    return connection


def ask_for_a_fork(connection, request, fds):
    """Send the request; the child's pid, or None if the server could not fork it."""
    try:
        socket.send_fds(connection, [json.dumps(request).encode()], fds)
        answer = json.loads(connection.recv(MAX_ANSWER) or b"{}")
    except (OSError, ValueError):
        return None
    return answer.get("pid")


def run(*popenargs, input=None, capture_output=False, timeout=None, check=False, **kwargs):
    """subprocess.run(), with this module's Popen."""
    if capture_output:
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    if input is not None:
        kwargs["stdin"] = subprocess.PIPE
    with Popen(*popenargs, **kwargs) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()  # as subprocess.run does: a grandchild may hold the pipes
            raise
        except BaseException:
            process.kill()
            raise
    completed = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check:
        completed.check_returncode()
    return completed
