"""The preloaded interpreter: import pytest and the rest once, then fork a child per command.

Run as a script (``python server.py FD MODULE ...``), never imported, so that no module
of ``tutorial`` is loaded in it: a child may run another copy of the repository's
tooling. It imports the modules named, configures nothing, and serves on the listening
socket it inherits as file descriptor FD (client.preloaded_interpreter() binds it, so
that nobody waits for the server to be ready: connections queue until it accepts them).

Each request (client.Popen sends it) is a command line for this interpreter, with a
working directory, an environment, a process group and three file descriptors. The
child sets all of them up as a fresh process would find them, runs the command, and
exits as the interpreter would; the server sends back the child's pid at once and its
wait status when it ends. It stops when its standard input closes (the process that
started it has ended), after the children still running.
"""

import sys

# What any interpreter has imported when a script starts: everything after this line
# is the server's own, and a project module of the same name would shadow it in a
# fresh process (see shadowed()).
STARTUP_MODULES = set(sys.modules)

import atexit
import builtins
import contextlib
import gc
import importlib.machinery
import io
import json
import linecache
import os
import runpy
import selectors
import signal
import socket
import threading
import time
import traceback
import types

MAX_REQUEST = 1 << 20
STANDARD_FDS = 3
# Signals a fresh interpreter does not leave to the system's default: Python's own
# handler for SIGINT; SIGPIPE and SIGXFSZ ignored.
FRESH_HANDLERS = {
    signal.SIGINT: signal.default_int_handler,
    signal.SIGPIPE: signal.SIG_IGN,
    signal.SIGXFSZ: signal.SIG_IGN,
}
CATCHABLE_SIGNALS = signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}
# sys.path as a fresh interpreter of this environment starts it, without its first
# entry (the script's folder, or the working directory) and without PYTHONPATH's.
BASE_SYS_PATH = sys.path[1:]


def main(listener_fd, modules):
    # Ctrl-C, a closed terminal and a SIGTERM sent to the process group reach this
    # server too: its children decide how to stop, and it must stay to report how they
    # ended. It ends when the process that started it has (its lifeline).
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    for module in modules:
        with contextlib.suppress(ImportError):  # a package this environment lacks
            __import__(module)
    listener = socket.socket(fileno=listener_fd)
    connected = receivers_connected()
    if connected:
        # A child would find them before its project's: refuse, and each command the
        # clients send runs in a fresh process instead.
        sys.exit(f"the preloaded modules connected receivers: {', '.join(connected)}")
    preloaded = {name.partition(".")[0] for name in set(sys.modules) - STARTUP_MODULES}
    serve(listener, preloaded)


def receivers_connected():
    """The receivers that importing the preloaded modules connected to Django's signals."""
    dispatcher = sys.modules.get("django.dispatch.dispatcher")
    if dispatcher is None:
        return []
    return [
        repr(receiver)
        for candidate in gc.get_objects()
        if issubclass(type(candidate), dispatcher.Signal)  # type(): lazy objects stay lazy
        for _key, receiver, *_ in candidate.receivers
    ]


def serve(listener, preloaded):
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "request")
    selector.register(sys.stdin, selectors.EVENT_READ, "lifeline")
    running = {}  # pidfd: (pid, connection)
    accepting = True
    while accepting or running:
        for key, _events in selector.select():
            if key.data == "request":
                connection, _ = listener.accept()
                started = start_child(connection, preloaded, closing=[listener, selector])
                if started:
                    pidfd = os.pidfd_open(started)
                    selector.register(pidfd, selectors.EVENT_READ, "child")
                    running[pidfd] = (started, connection)
            elif key.data == "lifeline":
                if not os.read(sys.stdin.fileno(), 4096):
                    selector.unregister(sys.stdin)
                    selector.unregister(listener)
                    listener.close()
                    accepting = False
            else:
                pid, connection = running.pop(key.fd)
                selector.unregister(key.fd)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                reply(connection, status=status)
                connection.close()


def reply(connection, **message):
    try:
        connection.send(json.dumps(message).encode())
    except OSError:  # the client has gone: nobody is waiting for the answer
        pass


def start_child(connection, preloaded, closing):
    """Fork the child the request on ``connection`` asks for; its pid, or None."""
    try:
        message, fds, _flags, _address = socket.recv_fds(connection, MAX_REQUEST, STANDARD_FDS)
        request = json.loads(message)
    except (OSError, ValueError) as error:
        reply(connection, error=f"unreadable request: {error}")
        connection.close()
        return None
    if len(fds) != STANDARD_FDS or shadowed(request, preloaded):
        for fd in fds:
            os.close(fd)
        reply(connection, error="a fresh process must run it")
        connection.close()
        return None
    # Every signal is held from the fork until the child has its caller's handling: sent
    # meanwhile (the caller has the pid at once), it would find the server's. Blocked, a
    # signal stays pending even where it is ignored (Linux).
    server_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    joined, has_joined = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(joined)
        for resource in [*closing, connection]:
            resource.close()
        run_child(request, fds, has_joined)  # never returns
    signal.pthread_sigmask(signal.SIG_SETMASK, server_mask)
    os.close(has_joined)
    # The caller may signal the child's group as soon as it has the pid: answer once the
    # child is in it (or has ended, and the pipe closed with it).
    os.read(joined, 1)
    os.close(joined)
    for fd in fds:
        os.close(fd)
    reply(connection, pid=pid)
    return pid


def shadowed(request, preloaded):
    """Whether a folder the child puts first on sys.path holds a module named like one
    this server imported (``preloaded``, top-level names): a fresh process would import
    that one instead of ours."""
    command = request["command"]
    if command["kind"] == "script":
        target = os.path.join(request["cwd"], command["target"])
        first = os.path.dirname(os.path.realpath(target))
    else:
        first = request["cwd"]
    for folder in [first, *pythonpath_folders(request["env"], request["cwd"])]:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        if any(entry.partition(".")[0] in preloaded for entry in entries):
            return True
    return False


def pythonpath_folders(env, cwd):
    """PYTHONPATH's folders as site leaves them: absolute (an empty entry is the working
    directory) and each once."""
    if not env.get("PYTHONPATH"):
        return []
    folders = (
        os.path.abspath(os.path.join(cwd, entry)) for entry in env["PYTHONPATH"].split(os.pathsep)
    )
    return list(dict.fromkeys(folders))


def startup_sys_path(env, cwd):
    """sys.path after site, before the interpreter puts the command's folder first."""
    return list(dict.fromkeys([*pythonpath_folders(env, cwd), *BASE_SYS_PATH]))


def run_child(request, fds, has_joined):
    """In the child: become the process a fresh interpreter would be, and run the command.

    ``has_joined`` is written to, then closed, once the child is in its process group."""
    try:
        if request["new_session"]:
            os.setsid()
        else:
            os.setpgid(0, request["process_group"])
        os.write(has_joined, b".")
        os.close(has_joined)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(STANDARD_FDS, os.sysconf("SC_OPEN_MAX"))
        handle_signals_as_a_fresh_child(ignored_by_the_caller=set(request["ignored_signals"]))
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()  # the time module read TZ when the server imported it
        configure_interpreter(request["env"], request["unbuffered"])
        command = request["command"]
    except BaseException:  # noqa: BLE001 - whatever failed, the client gets exit status 127
        traceback.print_exc()
        os._exit(127)
    exit_as_python_does(lambda: run_command(command, request["blocked_signals"]))


def handle_signals_as_a_fresh_child(ignored_by_the_caller):
    """Exec keeps a signal the caller ignores ignored and resets the others; the new
    interpreter then sets its own (FRESH_HANDLERS). Whatever the server had goes."""
    for number in CATCHABLE_SIGNALS:
        if number in ignored_by_the_caller:
            handler = signal.SIG_IGN
        else:
            handler = FRESH_HANDLERS.get(number, signal.SIG_DFL)
        if signal.getsignal(number) != handler:
            signal.signal(number, handler)


def configure_interpreter(env, unbuffered):
    """What a fresh interpreter reads from its environment at startup (the rest of it
    must equal this server's, which client.Popen checks before asking for a fork)."""
    sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    sys.pycache_prefix = env.get("PYTHONPYCACHEPREFIX") or None
    unbuffered = unbuffered or bool(env.get("PYTHONUNBUFFERED"))
    encoding, errors = sys.stdin.encoding, sys.stdin.errors
    sys.stdin = sys.__stdin__ = text_stream(0, "r", encoding, errors)
    sys.stdout = sys.__stdout__ = text_stream(1, "w", encoding, errors, unbuffered)
    # Since Python 3.9, standard error is line-buffered even when it is not a terminal.
    sys.stderr = sys.__stderr__ = text_stream(
        2, "w", encoding, "backslashreplace", unbuffered, line_buffering=not unbuffered
    )


def text_stream(fd, mode, encoding, errors, unbuffered=False, line_buffering=False):
    """The text stream Python's startup makes of a standard file descriptor."""
    raw = io.FileIO(fd, mode + "b", closefd=False)
    raw.name = ("<stdin>", "<stdout>", "<stderr>")[fd]
    if mode == "r":
        buffered = io.BufferedReader(raw)
    else:
        buffered = raw if unbuffered else io.BufferedWriter(raw)
        line_buffering = line_buffering or raw.isatty()
    stream = io.TextIOWrapper(
        buffered,
        encoding=encoding,
        errors=errors,
        newline="\n",
        line_buffering=line_buffering,
        write_through=unbuffered,
    )
    stream.mode = mode
    return stream


def run_command(command, blocked_signals):
    """Run ``-m module``, ``-c code`` or a script, with sys.argv and sys.path set as the
    interpreter sets them (the first entry: the working directory, '' or the script's
    folder), once the caller's signal mask is the child's: the signals held since the
    fork, unless the caller blocks them too, are delivered."""
    signal.pthread_sigmask(signal.SIG_SETMASK, blocked_signals)
    kind, target, arguments = command["kind"], command["target"], command["arguments"]
    startup_path = startup_sys_path(os.environ, os.getcwd())
    main_module = sys.modules["__main__"] = types.ModuleType("__main__")
    main_module.__dict__.update(__annotations__={}, __builtins__=builtins)
    if kind == "module":
        sys.path[:] = [os.getcwd(), *startup_path]
        sys.argv = ["-m", *arguments]
        # What `python -m` itself calls: it puts the module's file in sys.argv[0].
        runpy._run_module_as_main(target, alter_argv=True)
    elif kind == "code":
        sys.path[:] = ["", *startup_path]
        sys.argv = ["-c", *arguments]
        main_module.__loader__ = importlib.machinery.BuiltinImporter
        if sys.version_info >= (3, 13):  # since 3.13 its tracebacks quote the code
            linecache.cache["<string>"] = (len(target), None, target.splitlines(True), "<string>")
        exec(compile(target, "<string>", "exec"), main_module.__dict__)
    else:
        path = os.path.abspath(target)  # as the interpreter names the script's code
        sys.path[:] = [os.path.dirname(os.path.realpath(path)), *startup_path]
        sys.argv = [target, *arguments]
        main_module.__dict__.update(
            __file__=path,
            __cached__=None,
            __loader__=importlib.machinery.SourceFileLoader("__main__", path),
        )
        with io.open_code(path) as script:
            exec(compile(script.read(), path, "exec"), main_module.__dict__)


def exit_as_python_does(run):
    """Run, then end the way the interpreter ends a program: SystemExit's code, a
    traceback and status 1 for an exception, and death by SIGINT for an unhandled
    KeyboardInterrupt; after the non-daemon threads and the atexit functions."""
    interrupted = False
    try:
        run()
        status = 0
    except SystemExit as request:
        status = exit_status(request.code)
    except KeyboardInterrupt as interruption:
        print_as_python_does(interruption)
        status, interrupted = 1, True
    except BaseException as error:  # noqa: BLE001 - the interpreter's last resort
        print_as_python_does(error)
        status = 1
    status = shut_down(status)
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(status)


def print_as_python_does(error):
    """The traceback without this server's frames."""
    frames = error.__traceback__
    while frames and frames.tb_frame.f_code.co_filename == __file__:
        frames = frames.tb_next
    sys.excepthook(type(error), error.with_traceback(frames), frames)


def exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):  # read as a C long: one that does not fit is -1
        return code & 0xFF if -(2**63) <= code < 2**63 else 0xFF
    print(code, file=sys.stderr)
    return 1


def shut_down(status):
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 120  # as the interpreter exits when it cannot flush
    return status


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
