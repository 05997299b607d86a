import pytest

from .factories import World


@pytest.fixture(autouse=True)
def licences_urls(settings):
    settings.ROOT_URLCONF = "tests.licences.urls"


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture
def today():
    from django.utils import timezone

    return timezone.localdate()
