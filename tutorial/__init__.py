"""Course tooling for the Django signals tutorial: ``python -m tutorial --help``."""
