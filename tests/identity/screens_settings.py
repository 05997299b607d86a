"""Settings for looking at the identity pages on a dev server before the lead wires them into
config/urls.py: the project's settings with the test URLconf (tests/identity/urls.py)."""

from smartgov.config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.identity.urls"
