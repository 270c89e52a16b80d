"""Course tooling for the Django signals tutorial: ``python -m tutorial --help``.

At the top, only the entry points (``__main__``, ``cli``) and what notebooks import
(``notebook``). The rest is grouped by what it serves, each group importing only the
ones listed after it: ``check`` and ``bench`` (two commands with parts of their own),
``running`` (environments, servers, suites and the everyday commands), ``in_step``
(what runs inside a step's interpreter) and ``course`` (the steps as material).
"""

import sys

# JupyterLab's jupyter-events installs rfc3987-syntax, and jsonschema, which nbformat
# imports, then builds three Earley parsers for it at import time: 1.4 s of CPU in each
# process that reads a notebook. Nothing here validates IRIs (nbformat's schemas have
# none), and jsonschema skips the check when the package cannot be imported.
sys.modules.setdefault("rfc3987_syntax", None)
