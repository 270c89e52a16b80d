"""runserver that prints each request's signals: ``python -m tutorial.in_step.traced_server``.

Started by ``serve N --trace`` (``make step-N TRACE=1``) from the step's folder, in place
of ``manage.py``. The step's code is untouched: this wraps the WSGI application that
runserver serves, records the signals sent while it handles a request, and prints
them after runserver's own line for that request. Requests are handled one at a time,
so that each trace holds one request's signals.
"""

import os
import sys

from tutorial.in_step.tracer import trace_signals


class TracedApplication:
    """The project's WSGI application, with one trace per request."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        tracing = trace_signals()
        trace = tracing.__enter__()
        try:
            response = self.application(environ, start_response)
        except BaseException:
            tracing.__exit__(*sys.exc_info())
            raise
        # request_finished is sent when the server closes the response, after it has
        # logged the request line: the trace ends there, and is printed under that line.
        return TracedResponse(response, tracing, trace)


class TracedResponse:
    def __init__(self, response, tracing, trace):
        self.response, self.tracing, self.trace = response, tracing, trace

    def __iter__(self):
        return iter(self.response)

    def close(self):
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            self.tracing.__exit__(None, None, None)
            print(self.trace, flush=True)


def main(argv):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "my_shop.settings")
    from django.core.management import execute_from_command_line
    from django.core.management.commands import runserver

    serve = runserver.get_internal_wsgi_application
    runserver.get_internal_wsgi_application = lambda: TracedApplication(serve())
    execute_from_command_line(["manage.py", *argv, "--nothreading"])


if __name__ == "__main__":
    main(sys.argv[1:])
