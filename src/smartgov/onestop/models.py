"""一网通办"""

from django.db import models  # noqa: F401
