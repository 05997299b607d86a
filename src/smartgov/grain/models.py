"""智能粮库"""

from django.db import models  # noqa: F401
