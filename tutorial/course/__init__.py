"""The course as material: the step folders, what changed between them, and copies of
them for learners (``diff``, ``start`` and ``branches``, each named after its command).

At the bottom of the tooling with preload/: it imports nothing else from tutorial, only
the standard library, because ``steps`` is needed before the virtual environment exists.
"""
