"""A command forked from the preloaded interpreter behaves as the same command started
afresh: what it sees, what it prints, how it ends, and which signals reach it."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tutorial.course.steps import REPO_ROOT
from tutorial.preload import client

# Python runs a signal's handler between bytecodes: one arriving just before time.sleep(60)
# enters its system call waits the whole minute. The sleepers nap in short turns instead.
SLEEP = "import time\nwhile True: time.sleep(0.1)"

PROBE = textwrap.dedent(
    """
    import json, os, signal, sys
    print(json.dumps({
        "argv": sys.argv,
        "cwd": os.getcwd(),
        "sys.path": sys.path,
        "environment": dict(os.environ),
        "main": sorted(name for name in globals() if name != "json"),
        "handlers": {
            name: repr(signal.getsignal(getattr(signal, name)))
            for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE", "SIGCHLD")
        },
        "process group": os.getpgrp(),
        "stdin": sys.stdin.read(),
        "names": [sys.stdin.name, sys.stdout.name, sys.stderr.name, sys.stdout.mode],
        "buffering": [
            (stream.line_buffering, stream.write_through, type(stream.buffer).__name__)
            for stream in (sys.stdout, sys.stderr)
        ],
        "bytecode": [sys.dont_write_bytecode, sys.pycache_prefix],
    }))
    print("to standard error", file=sys.stderr)
    sys.exit(int(sys.argv[-1]))
    """
)


@pytest.fixture
def preloaded(monkeypatch):
    """A server, even in a run that TUTORIAL_FRESH_PROCESSES=1 keeps from forking."""
    monkeypatch.delenv(client.FRESH_VARIABLE, raising=False)
    with client.preloaded_interpreter():
        yield


def fresh_and_forked(argv, **options):
    """Run argv as a fresh process and forked from the server; both completed processes."""
    options = {"capture_output": True, "text": True, **options}
    fresh = subprocess.run(argv, **options)
    where = {name: options[name] for name in ("cwd", "env") if name in options}
    with client.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **where) as probe:
        assert probe.forked, "the server did not fork it"
    forked = client.run(argv, **options)
    return fresh, forked


def run_caller(code, **options):
    """Run ``code`` in a Python process of its own that imports tutorial; its output."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    completed = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment,
                               capture_output=True, text=True, timeout=240, **options)  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def assert_the_same(fresh, forked):
    assert (forked.returncode, forked.stderr) == (fresh.returncode, fresh.stderr)
    try:
        assert json.loads(forked.stdout) == json.loads(fresh.stdout)
    except json.JSONDecodeError:
        assert forked.stdout == fresh.stdout


@pytest.mark.parametrize("form", ["script", "module", "code", "unbuffered code"])
@pytest.mark.parametrize("bytecode", ["written", "not written"])
def test_a_forked_child_sees_and_prints_what_a_fresh_one_does(preloaded, tmp_path, form, bytecode):
    (tmp_path / "probe.py").write_text(PROBE)
    (tmp_path / "lib").mkdir()
    command = {
        "script": ["probe.py"],
        "module": ["-m", "probe"],
        "code": ["-c", PROBE],
        "unbuffered code": ["-u", "-c", PROBE],
    }[form]
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "lib"), "SOMETHING": "set"}
    environment.pop("PYTHONUNBUFFERED", None)
    if bytecode == "not written":
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        environment["PYTHONPYCACHEPREFIX"] = str(tmp_path / "cache")

    fresh, forked = fresh_and_forked(
        [sys.executable, *command, "first argument", "3"],
        cwd=tmp_path,
        env=environment,
        input="what was typed\r\non two lines\r",
    )

    assert_the_same(fresh, forked)
    assert fresh.returncode == 3
    assert json.loads(forked.stdout)["process group"] == os.getpgrp()


@pytest.mark.parametrize(
    "code",
    [
        "1 / 0",
        "import sys; sys.exit('a message and status 1')",
        "import sys; sys.exit(None)",
        "raise KeyboardInterrupt",
        "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
        "import threading, time; threading.Thread(target=time.sleep, args=[0.2]).start()",
        "import atexit; atexit.register(print, 'at exit')",
    ],
)
def test_a_forked_child_ends_as_a_fresh_one_does(preloaded, code):
    fresh, forked = fresh_and_forked([sys.executable, "-c", code])

    assert_the_same(fresh, forked)


@pytest.mark.parametrize("pythonpath", ["lib", "lib::lib", "./lib/../lib:/tmp"])
def test_pythonpath_is_made_absolute_and_each_folder_kept_once(preloaded, tmp_path, pythonpath):
    """As site does: `PYTHONPATH=. make test`, say, still finds its modules after a chdir."""
    (tmp_path / "lib").mkdir()
    environment = {**os.environ, "PYTHONPATH": pythonpath.replace(":", os.pathsep)}
    fresh, forked = fresh_and_forked([sys.executable, "-c", "import sys; print(sys.path)"],
                                     cwd=tmp_path, env=environment)  # fmt: skip

    assert_the_same(fresh, forked)


def test_a_forked_child_has_its_callers_umask_and_time_zone(preloaded, tmp_path):
    made = "import os, time; name = str(os.getpid()); open(name, 'w'); mode = os.stat(name).st_mode"
    probe = [sys.executable, "-c", f"{made}; print(oct(mode), time.tzname)"]
    callers_umask = os.umask(0o077)
    try:
        fresh, forked = fresh_and_forked(
            probe, cwd=tmp_path, env={**os.environ, "TZ": "Asia/Tokyo"}
        )
    finally:
        os.umask(callers_umask)

    assert fresh.stdout == "0o100600 ('JST', 'JST')\n"
    assert_the_same(fresh, forked)


def test_an_exit_code_too_large_for_a_c_long_ends_with_255(preloaded):
    """What stderr says then varies with Python's version; the status does not."""
    fresh, forked = fresh_and_forked([sys.executable, "-c", "import sys; sys.exit(2**64)"])

    assert forked.returncode == fresh.returncode == 255


def test_a_signal_sent_to_a_forked_child_reaches_it(preloaded):
    sleeper = [sys.executable, "-c", f"print('up', flush=True)\n{SLEEP}"]
    with client.Popen(sleeper, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        assert child.forked
        assert child.stdout.readline() == "up\n"
        assert child.poll() is None
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=10) == -signal.SIGINT
        assert child.stderr.read().endswith("KeyboardInterrupt\n")


def test_a_signal_sent_as_soon_as_the_pid_is_known_is_not_lost(preloaded):
    """The child is forked from a server that ignores Ctrl-C: a SIGINT arriving before the
    child has set up its handlers must wait for them, not be ignored (make test's Ctrl-C
    reaches a suite that had just started this way)."""
    sleeper = [sys.executable, "-c", SLEEP]
    for _attempt in range(20):
        with client.Popen(sleeper, stderr=subprocess.DEVNULL) as child:
            assert child.forked
            child.send_signal(signal.SIGINT)
            try:
                assert child.wait(timeout=10) == -signal.SIGINT
            except subprocess.TimeoutExpired:
                child.kill()
                pytest.fail("the child ignored a SIGINT sent just after it was forked")


def test_a_forked_child_joins_its_callers_process_group(preloaded):
    """Ctrl-C reaches the foreground process group: the caller's, whichever it is."""
    output = run_caller(
        """
        import os, subprocess, sys
        from tutorial.preload import client
        group = [sys.executable, "-c", "import os; print(os.getpgrp())"]
        with client.Popen(group, stdout=subprocess.PIPE, text=True) as child:
            print(child.forked, int(child.stdout.read()) == os.getpgrp())
        """,
        process_group=0,
    )

    assert output == "True True\n"


def test_a_forked_child_is_in_its_group_or_session_when_the_caller_gets_its_pid(preloaded):
    """A Ctrl-C to the caller's group, or a signal to the new session's group, sent as soon
    as Popen returns reaches the child: it joined them before the server answered."""
    output = run_caller(
        f"""
        import os, signal, subprocess, sys
        from tutorial.preload import client
        signal.signal(signal.SIGINT, lambda *_: None)  # the caller outlives its Ctrl-C
        sleeper = [sys.executable, "-c", {SLEEP!r}]
        outcomes = []
        for new_session in [False, True] * 10:
            with client.Popen(sleeper, start_new_session=new_session) as child:
                os.killpg(child.pid if new_session else 0, signal.SIGINT)
                try:
                    outcomes.append((child.forked, child.wait(timeout=10)))
                except subprocess.TimeoutExpired:
                    child.kill()
                    outcomes.append((child.forked, "missed"))
        print(sorted(set(outcomes)))
        """,
        process_group=0,
    )

    assert output == f"[(True, {-signal.SIGINT})]\n"


def test_a_signal_its_caller_ignores_or_blocks_sent_at_once_spares_the_child(preloaded):
    """Sent before the child has its caller's handling, it must wait for it, not kill."""
    output = run_caller(
        """
        import os, signal, subprocess, sys
        from tutorial.preload import client
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
        nap = [sys.executable, "-c", "import time; time.sleep(0.1)"]
        outcomes = set()
        for number in [signal.SIGUSR1, signal.SIGUSR2] * 10:
            with client.Popen(nap) as child:
                os.kill(child.pid, number)
                outcomes.add((child.forked, child.wait(timeout=10)))
        print(sorted(outcomes))
        """
    )

    assert output == "[(True, 0)]\n"


def test_a_signal_the_server_ignores_is_not_ignored_by_a_child(preloaded):
    """A server started under nohup, say: its callers may handle SIGHUP as usual."""
    output = run_caller(
        """
        import signal, subprocess, sys
        from tutorial.preload import client
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        signal.signal(signal.SIGTSTP, signal.SIG_IGN)
        probe = (
            "from signal import *;"
            "print(getsignal(SIGUSR1) == getsignal(SIGTSTP) == SIG_DFL)"
        )
        with client.preloaded_interpreter(modules=["json"]):  # a server of its own
            signal.signal(signal.SIGUSR1, signal.SIG_DFL)
            signal.signal(signal.SIGTSTP, signal.SIG_DFL)
            with client.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE) as child:
                print(child.forked, child.stdout.read().decode().strip())
        """
    )

    assert output == "True True\n"


def test_a_forked_child_can_start_a_session_of_its_own(preloaded):
    code = "import os; print(os.getsid(0) == os.getpid())"
    completed = client.run([sys.executable, "-c", code], capture_output=True, text=True,
                           start_new_session=True)  # fmt: skip

    assert completed.stdout == "True\n"


@pytest.mark.parametrize(
    "argv, options",
    [
        (["/bin/echo", "not python"], {}),
        ([sys.executable, "-X", "dev", "-c", "pass"], {}),
        ([sys.executable, "-c", "pass"], {"env": {**os.environ, "PYTHONHASHSEED": "7"}}),
        ([sys.executable, "-c", "pass"], {"process_group": 0}),
        ([sys.executable, "-c", "pass"], {"preexec_fn": os.getpid}),
    ],
    ids=["another program", "an interpreter option", "a startup variable", "a group", "preexec"],
)
def test_what_a_fork_could_not_give_exactly_starts_afresh(preloaded, argv, options):
    with client.Popen(argv, stdout=subprocess.DEVNULL, **options) as process:
        assert not process.forked
    assert process.returncode == 0


def test_a_server_whose_modules_connect_receivers_forks_nothing():
    """Preloaded, django.db's receivers would come before a project's: the server refuses
    to serve, and every command starts afresh."""
    code = "from django.core.signals import request_started; print(len(request_started.receivers))"
    with client.preloaded_interpreter(modules=["django.db"]):
        with client.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as child:
            assert not child.forked
            assert child.stdout.read() == "0\n"


def test_the_preloaded_modules_connect_no_receiver(preloaded):
    code = textwrap.dedent(
        f"""
        import runpy, sys
        for module in {client.PRELOADED_MODULES!r}:
            __import__(module)
        server = runpy.run_path({str(client.SERVER_SCRIPT)!r})
        print(server["receivers_connected"]())
        """
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert completed.stdout == "[]\n", completed.stderr


def test_a_module_of_the_project_named_like_a_preloaded_one_is_the_one_imported(
    preloaded, tmp_path
):
    """The server has imported the standard library's secrets: a project's own
    secrets.py comes first on a fresh process's sys.path, so a fresh process runs it."""
    (tmp_path / "secrets.py").write_text('KEY = "the project\'s own"\n')
    code = "from secrets import KEY; print(KEY)"
    with client.Popen([sys.executable, "-c", code], cwd=tmp_path, stdout=subprocess.PIPE,
                      text=True) as child:  # fmt: skip
        assert not child.forked
        assert child.stdout.read() == "the project's own\n"


def test_a_timeout_ends_the_wait_even_when_a_grandchild_holds_the_output(preloaded):
    sleeper = "[sys.executable, '-c', 'import time; time.sleep(5)']"
    code = f"import subprocess, sys; subprocess.Popen({sleeper})"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        client.run([sys.executable, "-c", f"{code}; import time; time.sleep(5)"],
                   capture_output=True, timeout=0.5)  # fmt: skip
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "argv, options",
    [
        ([sys.executable, "-c", "pass"], {"cwd": "/no/such/folder"}),
        ([sys.executable, "no_such_script.py"], {}),
    ],
    ids=["a missing folder", "a missing script"],
)
def test_a_command_that_cannot_start_fails_as_a_fresh_one_does(preloaded, argv, options):
    fresh, forked = [outcome(run, argv, **options) for run in (subprocess.run, client.run)]
    assert forked == fresh


def outcome(run, argv, **options):
    try:
        completed = run(argv, capture_output=True, text=True, **options)
    except OSError as error:
        return type(error), error.errno
    return completed.returncode, completed.stdout, completed.stderr


def test_the_signals_its_caller_ignores_or_blocks_stay_so(preloaded):
    """A fresh process inherits both across exec: nohup's SIGHUP, a blocked SIGUSR1."""
    output = run_caller(
        """
        import signal, subprocess, sys
        from tutorial.preload import client
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup leaves it
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        state = (
            "status = dict(line.partition(':')[::2] for line in open('/proc/self/status'));"
            "print(status['SigBlk'].strip(), status['SigIgn'].strip())"
        )
        probe = [sys.executable, "-c", state]
        with client.Popen(probe, stdout=subprocess.PIPE, text=True) as child:
            print(child.forked, child.stdout.read().strip())
        print(subprocess.run(probe, capture_output=True, text=True).stdout.strip())
        """
    )

    forked, fresh = output.splitlines()
    assert forked.startswith("True ")
    # glibc keeps signals 32 and 33 for itself: a caller may have inherited them ignored,
    # but Python can neither read nor set them, and exec alone passes them on.
    settable = sum(1 << (number - 1) for number in signal.valid_signals())
    forked_masks, fresh_masks = ([int(mask, 16) & settable for mask in line.split()[-2:]]
                                 for line in (forked, fresh))  # fmt: skip
    assert forked_masks == fresh_masks
    blocked, ignored = fresh_masks
    assert blocked == 1 << (signal.SIGUSR1 - 1)
    assert ignored & (1 << (signal.SIGHUP - 1)) and ignored & (1 << (signal.SIGUSR2 - 1))


def test_a_command_told_to_start_afresh_does_and_so_do_its_own(preloaded):
    environment = {**os.environ, client.FRESH_VARIABLE: "1"}
    with client.Popen([sys.executable, "-c", "pass"], env=environment) as child:
        assert not child.forked


def test_without_a_server_every_command_starts_afresh(monkeypatch):
    monkeypatch.delenv(client.SERVER_VARIABLE, raising=False)
    with client.Popen([sys.executable, "-c", "pass"]) as process:
        assert not process.forked
    assert process.returncode == 0


def test_tutorial_fresh_processes_starts_no_server(monkeypatch):
    monkeypatch.delenv(client.SERVER_VARIABLE, raising=False)
    monkeypatch.setenv(client.FRESH_VARIABLE, "1")
    with client.preloaded_interpreter():
        assert client.SERVER_VARIABLE not in os.environ
