"""办件查询: case number plus the ID number's last six digits shows status and deadline, nothing
personal; a wrong pair answers like a missing case, and repeated guessing is refused."""

from django.core.cache import cache
from django.test import Client

from smartgov.onestop import services
from tests.onestop.conftest import citizen_client, world  # noqa: F401
from tests.onestop.test_pages import apply_page


def test_anyone_with_the_number_and_last_six_digits_sees_the_progress(world, citizen_client):  # noqa: F811
    cache.clear()
    app = apply_page(citizen_client, world)
    services.start_prereview(actor=world["officer"], application=app)
    services.accept(actor=world["officer"], application=app)
    app.refresh_from_db()
    last_six = app.applicant_enterprise.uscc[-6:] if app.applicant_enterprise_id else \
        app.applicant_person.id_number[-6:]
    resp = Client().post("/onestop/progress/", {"number": app.number, "last_six": last_six})
    page = resp.content.decode()
    assert resp.status_code == 200 and 'data-testid="lookup-result"' in page
    assert f'data-state="{app.state}"' in page and app.due_on.strftime("%Y-%m-%d") in page
    assert "王小明" not in page and app.applicant_person.id_number not in page and "13800001111" not in page

    wrong = Client().post("/onestop/progress/", {"number": app.number, "last_six": "000000"})
    missing = Client().post("/onestop/progress/", {"number": "NOPE", "last_six": "000000"})
    assert wrong.status_code == missing.status_code == 404
    for _ in range(5):
        Client().post("/onestop/progress/", {"number": app.number, "last_six": "111111"})
    locked = Client().post("/onestop/progress/", {"number": app.number, "last_six": last_six})
    assert locked.status_code == 404  # refused for the window, even with the right digits
    cache.clear()


def test_the_query_code_on_the_acceptance_notice_opens_the_progress_without_an_id_number(
        world, citizen_client):  # noqa: F811
    cache.clear()
    app = apply_page(citizen_client, world)
    services.start_prereview(actor=world["officer"], application=app)
    services.accept(actor=world["officer"], application=app)
    app.refresh_from_db()
    code = app.query_code
    assert len(code) == 8 and set(code) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    # printed on the 受理通知书 PDF, never in its signed content (which anyone may verify online)
    notice = app.notices.get(kind="acceptance")
    assert code not in notice.signed_content
    pdf = citizen_client.get(f"/onestop/notices/{notice.number}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    public = Client().get(f"/onestop/notices/{notice.number}/").content.decode()
    assert code not in public and f"{code[:4]}-{code[4:]}" not in public

    for typed in (code, f"{code[:4]}-{code[4:]}", code.lower()):
        resp = Client().post("/onestop/progress/", {"number": app.number, "last_six": typed})
        assert resp.status_code == 200 and 'data-testid="lookup-result"' in resp.content.decode()
    other = "".join("A" if ch != "A" else "B" for ch in code)
    assert Client().post("/onestop/progress/", {"number": app.number, "last_six": other}).status_code == 404
    # and the applicant sees it on the case page
    assert f"{code[:4]}-{code[4:]}" in citizen_client.get(f"/onestop/cases/{app.number}/").content.decode()
    cache.clear()


def test_wrong_tries_are_counted_in_the_database_so_every_app_server_sees_them(world, citizen_client):  # noqa: F811
    from django.core.cache import caches
    from django.db import connection

    cache.clear()
    app = apply_page(citizen_client, world)
    for _ in range(5):
        Client().post("/onestop/progress/", {"number": app.number, "last_six": "111111"})
    with connection.cursor() as cur:  # the counter is a row of the shared cache table, not process memory
        cur.execute("SELECT count(*) FROM smartgov_cache")
        assert cur.fetchone()[0] == 1
    other_server = caches.create_connection("default")  # a fresh cache object, as another process has
    assert other_server.get(f"onestop:lookup-failures:{app.number.upper()}") >= 5
    cache.clear()
