"""药品（疫苗）追溯监管"""

from django.db import models  # noqa: F401
