"""流程引擎"""

from django.db import models  # noqa: F401
