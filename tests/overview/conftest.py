from tests.onestop.conftest import chief_client, citizen_client, officer_client, world  # noqa: F401
