"""The course as material: the step folders, what changed between them, and copies of
them for learners (``diff``, ``start`` and ``branches``, each named after its command).

The bottom of the tooling: it imports nothing else from tutorial, and only the standard
library, because ``steps`` is needed before the virtual environment exists.
"""
