"""Course tooling for the Django signals tutorial: ``python -m tutorial --help``."""

import sys

# JupyterLab's jupyter-events installs rfc3987-syntax, and jsonschema, which nbformat
# imports, then builds three Earley parsers for it at import time: 1.4 s of CPU in each
# process that reads a notebook. Nothing here validates IRIs (nbformat's schemas have
# none), and jsonschema skips the check when the package cannot be imported.
sys.modules.setdefault("rfc3987_syntax", None)
