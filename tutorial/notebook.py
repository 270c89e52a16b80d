"""What a notebook imports: ``from tutorial.notebook import start; start(3)``.

Also ``trace_signals`` (record what is sent inside a ``with`` block) and
``receivers_table`` (who listens to what), from tutorial.in_step, where they live.

The kernel finds this package because ``make setup`` puts the repository on the
virtual environment's path (a ``.pth`` file), so notebooks need no ``sys.path`` line.
"""

import logging
import os

from tutorial.course.steps import get_step
from tutorial.in_step.inspector import receivers_table
from tutorial.in_step.project import load_step
from tutorial.in_step.tracer import trace_signals

__all__ = ["receivers_table", "start", "trace_signals"]


class _WithoutTraceback(logging.Filter):
    """Keep the message, drop the traceback: it names the kernel's temporary cell files."""

    def filter(self, record):
        record.exc_info = record.exc_text = None
        return True


_loaded = None


def start(step, database=None):
    """Load a step's project on a scratch database, ready for shell_plus's notebook loader.

    ``database``: a SQLite file to keep between sessions; by default a temporary one.
    A kernel holds one step: every step defines the same packages.
    """
    global _loaded
    if _loaded is not None:
        if get_step(step) != _loaded:
            raise RuntimeError(f"{_loaded} is loaded in this kernel; restart it for another step.")
        print(f"Step {_loaded.number} ({_loaded}) is already loaded.")
        return
    # ipykernel runs cells inside an asyncio event loop, where Django refuses ORM calls
    # unless told that this process is not serving async requests. This kernel only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # A notebook is no terminal: the plain text of its tables keeps its natural width,
    # whatever COLUMNS the shell that started Jupyter had.
    os.environ.pop("COLUMNS", None)
    _loaded = load_step(step, database=database)

    from django.test.utils import setup_test_environment

    # The test client's host name, and sent email kept in django.core.mail.outbox.
    setup_test_environment()
    # Request durations differ on every run; keep the stored outputs reproducible.
    logging.getLogger("request_log").setLevel(logging.INFO)
    # send_robust() logs each error it catches; its message is enough here.
    logging.getLogger("django.dispatch").addFilter(_WithoutTraceback())
    print(f"Step {_loaded.number} ({_loaded}) is loaded, on a scratch database.")
