"""A preloaded interpreter that forks the course's Python commands: Django and pytest
imported once, a child per command that sees what a fresh process would.

The bottom of the tooling with course/: it imports nothing else from tutorial, only the
standard library (the server runs as a script, with no module of tutorial loaded).
"""
