"""Run test suites, each in its own pytest process, one more at a time than there are
cores, and sum them up.

Every step defines the same packages (my_shop, products, ...), so two steps
must never share an interpreter.
"""

import contextlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tutorial.course.steps import CACHE_DIR, REPO_ROOT
from tutorial.preload import client

OUTCOME = re.compile(r"(\d+) (passed|failed|errors?|skipped|deselected|xfailed|xpassed)")
NO_TESTS_COLLECTED = 5
# pytest's --durations lines: "3.12s setup    tests/test_tours.py::test_tour[1]"
DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S+)$", re.MULTILINE)
SLOWEST_SHOWN = 3
# Plugins that other packages install and no test here uses. pytest loads every
# installed plugin at each start; anyio's alone costs a fifth of a second, in each of
# the dozens of pytest processes `make test` starts.
UNUSED_PYTEST_PLUGINS = "-p no:anyio -p no:platformdirs"
# Python's bytecode for every module the tests import, kept out of the source folders.
BYTECODE_CACHE = CACHE_DIR / "pycache"
# How long each suite took last time, to start the long ones first.
SUITE_SECONDS = CACHE_DIR / "suite-seconds.json"
# The suites' pytest processes now running, so that Ctrl-C can reach each of them.
_running = set()
_running_lock = threading.Lock()
_stopping = threading.Event()


@dataclass
class Suite:
    label: str
    cwd: Path
    pytest_args: list
    env: dict = field(default_factory=dict)
    slow: bool = False
    python: str = sys.executable
    fail_on_skip: bool = False  # for suites where a skip means "did not run"
    # What runs the tests: pytest itself, or `tutorial check`, which passes them on to it
    # when each is written as pytest_arg_prefix + argument.
    runner: tuple = ("-m", "pytest", "-q")
    pytest_arg_prefix: str = ""


@dataclass
class SuiteResult:
    suite: Suite
    returncode: int
    output: str
    seconds: float

    @property
    def counts(self):
        summary = self.output.strip().splitlines()[-1] if self.output.strip() else ""
        counts = {}
        for number, outcome in OUTCOME.findall(summary):
            outcome = "error" if outcome.startswith("error") else outcome
            counts[outcome] = counts.get(outcome, 0) + int(number)
        return counts

    @property
    def durations(self):
        """(seconds, phase, test id) of the slowest tests pytest reported, this suite's."""
        return [
            (float(seconds), phase, f"{self.suite.label}: {test}")
            for seconds, phase, test in DURATION.findall(self.output)
        ]

    @property
    def ok(self):
        skipped_but_required = self.suite.fail_on_skip and self.counts.get("skipped")
        return self.returncode == 0 and not skipped_but_required


def step_suite(step, pytest_args=(), env=None):
    environ = {"DJANGO_SETTINGS_MODULE": "my_shop.settings", **(env or {})}
    return Suite(f"step {step.name}", step.path, list(pytest_args), environ)


def checked_step_suite(step, pytest_args=()):
    """The step's tests run once, through `check --course`: they pass, and check works.

    This is the run `make test` makes: the same tests as step_suite(), from check's
    scratch folder, so that a step passing its own check needs no second run.
    """
    check = ("-m", "tutorial", "check", str(step.number), str(step.path), "--course")
    return Suite(
        f"step {step.name}",
        REPO_ROOT,
        list(pytest_args),
        runner=check,
        pytest_arg_prefix="--pytest-arg=",
    )


# The repository tests that start servers, kernels and interpreters of their own run in
# processes of their own: several short suites share the cores better than a long one.
SLOW_REPOSITORY_TESTS = {
    "repository tests/ (notebooks)": ["tests/test_notebooks.py"],
    "repository tests/ (check)": ["tests/test_check.py"],
    "repository tests/ (check --watch)": ["tests/test_check_watch.py"],
    "repository tests/ (tours)": ["tests/test_tours.py"],
    "repository tests/ (servers)": ["tests/test_serve.py"],
    "repository tests/ (bench)": ["tests/test_bench.py"],
    "repository tests/ (start)": ["tests/test_start.py"],
    "repository tests/ (inside the steps)": [
        "tests/test_inspector.py",
        "tests/test_tracer.py",
        "tests/test_project.py",
    ],
}


def repository_suites(pytest_args=()):
    groups = {
        label: [path for path in paths if (REPO_ROOT / path).exists()]
        for label, paths in SLOW_REPOSITORY_TESTS.items()
    }
    ignore_slow = [f"--ignore={path}" for paths in groups.values() for path in paths]
    suites = [Suite("repository tests/", REPO_ROOT, ["tests", *ignore_slow, *pytest_args])]
    suites += [
        Suite(label, REPO_ROOT, [*paths, *pytest_args], slow=True)
        for label, paths in groups.items()
        if paths
    ]
    return suites


def run_suite(suite):
    # A DJANGO_SETTINGS_MODULE left in the shell would override pytest.ini.
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    env = environment_for_tests(env)
    env.update(suite.env)
    started = time.perf_counter()
    arguments = [f"--durations={SLOWEST_SHOWN}", "--durations-min=0.5", *suite.pytest_args]
    arguments = [suite.pytest_arg_prefix + argument for argument in arguments]
    with client.Popen(
        [suite.python, *suite.runner, *arguments],
        cwd=suite.cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        with _running_lock:
            _running.add(process)
        if _stopping.is_set():  # started just after Ctrl-C, which it never got
            interrupt(process)
        try:
            output, _ = process.communicate()
        finally:
            with _running_lock:
                _running.discard(process)
    return SuiteResult(suite, process.returncode, output, time.perf_counter() - started)


def stop_running_suites():
    """Ctrl-C reached the suites running from the terminal, but not one starting meanwhile."""
    _stopping.set()
    with _running_lock:
        for process in _running:
            interrupt(process)


def interrupt(process):
    if os.name == "nt":
        process.terminate()
    else:
        process.send_signal(signal.SIGINT)


def environment_for_tests(environ):
    """``environ`` for a process that runs tests: the suites' and check's.

    Suites run side by side, and some compare folders before and after a command:
    bytecode written beside the sources meanwhile would look like a change. It goes to
    the cache instead, where the next run finds it compiled. The plugins are left out
    through the environment, so that the pytest processes the tests start skip them too.
    """
    environ = {name: value for name, value in environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    environ["PYTHONPYCACHEPREFIX"] = str(BYTECODE_CACHE)
    addopts = environ.get("PYTEST_ADDOPTS", "")
    environ["PYTEST_ADDOPTS"] = f"{UNUSED_PYTEST_PLUGINS} {addopts}".strip()
    return environ


def forget_bytecode_of_removed_folders(cache=BYTECODE_CACHE):
    """Delete the cached bytecode of folders that no longer exist.

    The tests copy steps into temporary folders, and check copies a step's tests into a
    scratch one: each copy compiles into the cache under its own path, so without this the
    cache would grow with every run. Below the cache, Python mirrors each source folder's
    absolute path, without its drive (importlib.util.cache_from_source).
    """
    for cached, folders, _files in os.walk(cache):
        source = Path(REPO_ROOT.anchor, Path(cached).relative_to(cache))
        for name in [name for name in folders if not (source / name).is_dir()]:
            shutil.rmtree(Path(cached, name), ignore_errors=True)
            folders.remove(name)  # os.walk does not go into it


def run_test_suites(suites, workers=None):
    """Run the suites in parallel, longest first; print them in order, then a summary."""
    # One more than the cores: many suites spend seconds waiting for the servers, kernels
    # and workers they start, and one more suite uses the CPU that waiting leaves idle.
    workers = workers or min(len(suites), (os.cpu_count() or 2) + 1)
    started = time.perf_counter()
    cost_before = RunCost.now()
    with client.preloaded_interpreter(), ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            scheduled = longest_first(suites, read_suite_seconds())
            futures = {id(suite): pool.submit(run_suite, suite) for suite in scheduled}
            results = []
            for suite in suites:
                result = futures[id(suite)].result()
                print(f"\n===== {suite.label} =====", flush=True)
                print(result.output.rstrip(), flush=True)
                results.append(result)
        except KeyboardInterrupt:
            # The suites waiting never start; the ones running stop.
            pool.shutdown(wait=False, cancel_futures=True)
            stop_running_suites()
            pool.shutdown(wait=True)
            print("\nInterrupted: the suites still waiting were not run.", file=sys.stderr)
            return 130
    print_summary(results, time.perf_counter() - started, RunCost.now() - cost_before)
    write_suite_seconds(results)
    forget_bytecode_of_removed_folders()
    return 0 if all(result.ok for result in results) else 1


def longest_first(suites, last_seconds):
    """By the seconds each suite took last time, so that the short ones fill the cores at
    the end instead of a long one running on alone. Never timed: slow ones first."""

    def expected_seconds(suite):
        return last_seconds.get(suite.label, math.inf if suite.slow else 0)

    return sorted(suites, key=expected_seconds, reverse=True)


def read_suite_seconds():
    try:
        return json.loads(SUITE_SECONDS.read_text())
    except (OSError, ValueError):
        return {}


def write_suite_seconds(results):
    seconds = read_suite_seconds()
    seconds.update({result.suite.label: round(result.seconds, 1) for result in results})
    SUITE_SECONDS.parent.mkdir(parents=True, exist_ok=True)
    SUITE_SECONDS.write_text(json.dumps(seconds, indent=1, sort_keys=True) + "\n")


def failures_in(result):
    return result.counts.get("failed", 0) + result.counts.get("error", 0)


@dataclass(frozen=True)
class RunCost:
    """CPU seconds of this process's finished children, and processes the machine started.

    Both are read where the system has them (resource on Unix, /proc/stat on Linux).
    """

    cpu_seconds: float | None
    processes: int | None

    @classmethod
    def now(cls):
        cpu = None
        with contextlib.suppress(ImportError):
            import resource

            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = children.ru_utime + children.ru_stime
        return cls(cpu, processes_started_since_boot())

    def __sub__(self, earlier):
        def difference(now, then):
            return None if now is None or then is None else now - then

        return RunCost(
            difference(self.cpu_seconds, earlier.cpu_seconds),
            difference(self.processes, earlier.processes),
        )

    def describe(self):
        parts = []
        if self.cpu_seconds is not None:
            parts.append(f"CPU {self.cpu_seconds:.0f} s")
        if self.processes is not None:
            parts.append(f"{self.processes} processes started on this machine")
        return ", ".join(parts)


def processes_started_since_boot():
    """The "processes" line of /proc/stat: every fork since boot, on Linux; else None."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("processes "):
                return int(line.split()[1])
    return None


def print_summary(results, seconds, cost=None):
    print("\n===== summary =====")
    width = max(len(result.suite.label) for result in results)
    totals = {}
    for result in results:
        counts = result.counts
        for outcome, number in counts.items():
            totals[outcome] = totals.get(outcome, 0) + number
        described = ", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "no tests ran"
        status = "ok" if result.ok else f"FAILED (exit {result.returncode})"
        print(f"{result.suite.label:<{width}} {described:<28} {result.seconds:5.1f} s  {status}")
    failed = totals.get("failed", 0) + totals.get("error", 0)
    # A suite that crashed or collected nothing counts as one failure.
    failed += sum(1 for result in results if not result.ok and not failures_in(result))
    skipped = f", {totals['skipped']} skipped" if totals.get("skipped") else ""
    spent = cost.describe() if cost else ""
    # CPU beside the wall time: a run that does more work shows it even on more cores.
    print(f"wall {seconds:.1f} s" + (f", {spent}" if spent else ""))
    print_slowest(results)
    print(f"total: {totals.get('passed', 0)} passed, {failed} failed{skipped}")


def print_slowest(results):
    """Where the time goes, for whoever makes the suite slower next."""
    suites = sorted(results, key=lambda result: result.seconds, reverse=True)[:SLOWEST_SHOWN]
    print("slowest suites: " + ", ".join(f"{r.suite.label} {r.seconds:.1f} s" for r in suites))
    tests = sorted((d for result in results for d in result.durations), reverse=True)
    for seconds, phase, test in tests[:SLOWEST_SHOWN]:
        print(f"slow test: {seconds:5.1f} s  {phase:<8} {test}")
