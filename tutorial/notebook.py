"""The first line of every notebook: ``from tutorial.notebook import start; start(3)``."""

import logging
import os

from tutorial.project import load_step


def start(step_number):
    """Load a step's project on a scratch database, ready for shell_plus's notebook loader."""
    # ipykernel runs cells inside an asyncio event loop, where Django refuses ORM calls
    # unless told that this process is not serving async requests. This kernel only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    step = load_step(step_number)

    from django.test.utils import setup_test_environment

    # The test client's host name, and sent email kept in django.core.mail.outbox.
    setup_test_environment()
    # Request durations differ on every run; keep the stored outputs reproducible.
    logging.getLogger("request_log").setLevel(logging.INFO)
    print(f"Step {step.number} ({step}) is loaded, on a scratch database.")
