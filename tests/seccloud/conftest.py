import pytest


@pytest.fixture(autouse=True)
def fresh_rule_pack():
    from smartgov.seccloud import ingest

    ingest.reset_pack()
    yield
    ingest.reset_pack()
