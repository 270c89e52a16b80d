"""A step's own settings, with django-debug-toolbar and the "Signals sent" panel added.

``serve N --toolbar`` (``make step-N TOOLBAR=1``) runs ``manage.py runserver`` with
``--settings tutorial.in_step.toolbar_settings``; the step's files stay as they are.
"""

import sys

from debug_toolbar.settings import PANELS_DEFAULTS

from my_shop.settings import *  # noqa: F403 - the step's settings, all of them
from my_shop.settings import INSTALLED_APPS, MIDDLEWARE

# Where the step's files are, for the panel's file:line (tutorial.in_step.naming).
STEP_SETTINGS_MODULE = "my_shop.settings"
INSTALLED_APPS = [*INSTALLED_APPS, "debug_toolbar"]
# As early as the toolbar's documentation asks: its panels wrap everything after it.
MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware", *MIDDLEWARE]
INTERNAL_IPS = ["127.0.0.1"]
ROOT_URLCONF = "tutorial.in_step.toolbar_urls"
DEBUG_TOOLBAR_PANELS = [*PANELS_DEFAULTS, "tutorial.in_step.toolbar_panel.SignalsSentPanel"]

# The toolbar's SQL panel imports GeoDjango's PostGIS adapter when it can, for PostGIS
# parameters, and that import looks for the GEOS and GDAL libraries (ctypes runs gcc and
# ldconfig to find them). No step uses GeoDjango: None in sys.modules makes that import
# fail at once, which the toolbar expects (it then formats no PostGIS parameters).
sys.modules.setdefault("django.contrib.gis.db.backends.postgis.adapter", None)
