import pytest


@pytest.fixture(autouse=True)
def telemetry_window_for_fixed_dates(settings):
    """Fixtures use a fixed date (factories.T0): accept it however far from today's clock the suite runs."""
    settings.IOT_MAX_AGE_DAYS = 36_500
    settings.IOT_MAX_FUTURE_SECONDS = 3_153_600_000
