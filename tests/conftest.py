import os
import secrets

import pytest
from hypothesis import HealthCheck, settings

# Property tests check behaviour, not speed: on a loaded 2-core CI machine a per-example deadline only
# produces flaky failures (DeadlineExceeded), so there is none.
settings.register_profile("smartgov", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("smartgov")

# Field-encryption keys for the test run (never a key in the repository): two versions, so rotation
# is exercised; the newest (2) is current.
os.environ.setdefault("SMARTGOV_MASTER_KEYS", f"1:{secrets.token_hex(32)},2:{secrets.token_hex(32)}")
os.environ.pop("SMARTGOV_MASTER_KEYS_FILE", None)


@pytest.fixture(scope="session", autouse=True)
def platform_keys(tmp_path_factory):
    """A fresh platform SM2 signing key for the session, and a clean key cache."""
    from django.conf import settings

    from smartgov.audit import signing
    from smartgov.core.crypto import keys
    from smartgov.core.crypto.sm2 import SM2PrivateKey

    path = tmp_path_factory.mktemp("keys") / "platform-sm2.pem"
    path.write_bytes(SM2PrivateKey.generate().to_pem())
    settings.SIGNING_KEY_FILE = path
    signing.reset_cache()
    keys.reset_key_cache()
    yield path
    signing.reset_cache()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2's deliberate slowness is for production; tests only need a real hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def audit_checkpoints_by_count_only(settings):
    """A checkpoint is also signed once AUDIT_CHECKPOINT_SECONDS have passed, which in a long test run
    happens in whichever test crosses the minute: its query count and checkpoints would then depend on the
    clock. Tests get the count bound only; the tests of the time bound set it themselves."""
    settings.AUDIT_CHECKPOINT_SECONDS = 0


@pytest.fixture(autouse=True)
def fresh_overview_figures():
    """The overview keeps each department's figures per process, keyed by the department's id and the audit
    head: both start again in every test, so one test's figures must not be served to the next."""
    from smartgov.overview.selectors import FIGURES

    FIGURES.clear()
    yield
    FIGURES.clear()


@pytest.fixture(autouse=True)
def fresh_catalogue_cache():
    """Each test builds its own catalogue; the per-process item cache must not carry one over."""
    from smartgov.onestop.selectors import forget_item

    forget_item()
    yield
    forget_item()
