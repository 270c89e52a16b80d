"""``check N PATH --watch``: check once, then again each time the learner saves a file.

watchfiles waits for the changes (with the operating system's notifications, not by
polling) and waits until saving has settled before it answers. Each run prints a
compact summary: how many behaviours pass, the first failure in full, and the README
section to reread. The slow behaviours (real worker processes) run only once every
quick one passes, so that a save gets its first answer in seconds.
"""

import logging
import sys
from datetime import datetime
from pathlib import Path

from watchfiles import DefaultFilter, watch

from tutorial.check.command import (
    LEFT_OUT,
    SLOW,
    SLOW_REASON,
    CheckError,
    behaviours,
    check_project,
    choose_settings,
    find_project,
    left_out_counts,
    print_failure,
)
from tutorial.preload import client


class ProjectFilter(DefaultFilter):
    """What a learner edits: not bytecode, editor swap files or the database."""

    ignore_entity_patterns = (
        *DefaultFilter.ignore_entity_patterns,
        r"^db\.sqlite3(-journal|-wal|-shm)?$",
    )


def watch_check(step, project_path, settings=None, quick=False):
    """Check, then wait for a change and check again, until Ctrl-C; return 0."""
    folder = Path(project_path).resolve()
    if not folder.is_dir():
        print(f"error: {project_path} is not a folder: nothing to watch", file=sys.stderr)
        return 2
    # watchfiles says "KeyboardInterrupt caught" on Ctrl-C; "Stopped watching." says it here.
    logging.getLogger("watchfiles.main").setLevel(logging.ERROR)
    # Each run is a pytest process: forked from one that has pytest imported, it starts
    # a quarter of a second sooner.
    with client.preloaded_interpreter():
        return watch_until_ctrl_c(step, folder, settings, quick)


def watch_until_ctrl_c(step, folder, settings, quick):
    try:
        # The watcher starts first and yields after half a second of quiet: the first
        # check runs then, so that a file saved during any check is never missed.
        checked = False
        for changes in watch(
            folder,
            watch_filter=ProjectFilter(),
            raise_interrupt=False,
            yield_on_timeout=True,
            rust_timeout=500,
        ):
            if checked and not changes:
                continue
            if changes:
                print(f"\n[{datetime.now():%H:%M:%S}] changed: {changed_names(changes, folder)}")
            check_and_summarise(step, folder, settings, quick)
            print("Watching for changes; Ctrl-C to stop.")
            checked = True
    except KeyboardInterrupt:  # Ctrl-C in the middle of a run: pytest stops with it
        pass
    print("\nStopped watching.")
    return 0


def check_and_summarise(step, project_path, settings, quick=False):
    """The quick behaviours first; the slow ones only once every quick one passes
    (never, with quick)."""
    try:
        project = find_project(project_path)
        settings_module = choose_settings(project, settings)
        first, _output = check_project(
            step, project, settings_module, None, f"{LEFT_OUT} and not {SLOW}"
        )
        slow_ones = left_out_counts(first)[SLOW]
        if not summarise(step, behaviours(first), "quick " if slow_ones else ""):
            return
        if slow_ones and quick:
            print(f"Quick check: {slow_ones} slow behaviours not run (--quick).")
            return
        if slow_ones:
            print(f"Now the {slow_ones} slow ones, {SLOW_REASON}...", flush=True)
            slow, _output = check_project(
                step, project, settings_module, None, f"{LEFT_OUT} and {SLOW}"
            )
            if not summarise(step, behaviours(slow), "slow "):
                return
    except CheckError as error:
        print(f"error: {error}")
        return
    print("All of them: your project behaves like the step.")


def summarise(step, results, kind):
    """Print how many pass and the first failure in full; return whether all passed."""
    failed = [behaviour for behaviour in results if behaviour.failed]
    print(
        f"{len(results) - len(failed)}/{len(results)} {kind}behaviours pass in step "
        f"{step.number} ({step})."
    )
    if failed:
        print(f"  FAIL  {failed[0].describe()}")
        print_failure(step, failed[0])
        if len(failed) > 1:
            print(f"  ... and {len(failed) - 1} more")
    return not failed


def changed_names(changes, folder):
    """The files changed, leaving out an editor's temporary files, already gone again."""
    paths = {Path(path) for _change, path in changes}
    shown = {path for path in paths if path.exists()} or paths
    return ", ".join(sorted(str(path.relative_to(folder)) for path in shown))
