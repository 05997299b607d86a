import pytest


@pytest.fixture(autouse=True)
def scan_window_for_fixed_dates(settings):
    """Grain fixtures use fixed dates (factories.T0 and days after it): accept them however far from
    today's clock the suite runs. tests/grain/test_ingest_failures.py sets the real window."""
    settings.GRAIN_SCAN_MAX_AGE_DAYS = 36_500
    settings.GRAIN_SCAN_MAX_FUTURE_SECONDS = 3_153_600_000
