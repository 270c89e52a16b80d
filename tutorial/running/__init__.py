"""Running things: the virtual environments, processes and servers, the test suites, and
the commands that start them (setup, serve, test, test-postgres, test-redis, test-matrix,
test-browser, receivers, tour, notebooks, lab, and the rest of the everyday ones).

``environment`` uses only the standard library: the CLI imports it to create ``.venv``.
Imports tutorial.course and tutorial.in_step, never check or bench.
"""
