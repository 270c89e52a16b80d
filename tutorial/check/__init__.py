"""``python -m tutorial check N PATH``: a step's tests run against a learner's project.

``command`` copies the project to a scratch folder, runs pytest there and explains each
failure; ``report_plugin`` is the pytest plugin that tells it what happened, one JSON
line per event; ``watch`` runs it again each time the learner saves (``--watch``).
"""
