"""What runs inside one step's interpreter, with that step's Django project loaded.

Used by the notebooks (through tutorial.notebook), the tours, the bench's measurements
and the traced server. ``project`` loads a step on a scratch database; ``tracer`` and
``inspector`` record and list signals; ``naming``, ``tables`` and ``signals_compat``
serve those two; ``python -m tutorial.in_step N ACTION`` (``__main__``) is how the
commands outside start work in here. Imports only tutorial.course below it.
"""
