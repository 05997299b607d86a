import pytest


@pytest.fixture(autouse=True)
def telemetry_window_for_fixed_dates(settings):
    settings.IOT_MAX_AGE_DAYS = 36_500
    settings.IOT_MAX_FUTURE_SECONDS = 3_153_600_000
