"""A citizen's own home, sign-in that sends each person to the right door, the one inbox, the demo
one-time code, and links shown only to those who may open them."""

import re

from django.test import Client

from smartgov.core.permissions import Role
from smartgov.eid import services as eid_services
from tests import factories as f

PASSWORD = "Citizen-Pass-2026"


def _citizen(n=1):
    user, _person = eid_services.register_citizen(name="张小三", id_number=f.id_number("19900307", 400 + n),
                                                  phone="13900001111", password=PASSWORD)
    return user


def test_signed_out_citizen_pages_go_to_the_eid_sign_in_and_staff_pages_to_the_staff_one(db):
    for url in ("/onestop/mine/", "/onestop/bundles/TKBQY/", "/my/", "/licences/wallet/", "/eid/"):
        chain = Client().get(url, follow=True).redirect_chain
        assert chain[-1][0].startswith("/eid/login/?next="), url
    for url in ("/workbench/", "/onestop/work/", "/audit/", "/trace/", "/licences/"):
        chain = Client().get(url, follow=True).redirect_chain
        assert chain[-1][0].startswith("/accounts/login/?next="), url
    assert Client().get("/signin/?next=https://evil.example/")["Location"] == "/eid/login/"


def test_citizen_signs_in_with_the_code_and_returns_where_they_were_going(db, settings):
    user = _citizen()
    client = Client()
    resp = client.post("/eid/login/?next=/onestop/mine/", {"identifier": user.person.id_number, "password": PASSWORD})
    assert resp["Location"] == "/eid/login/code/"
    page = client.get("/eid/login/code/").content.decode()
    assert 'data-testid="demo-code"' not in page  # not in production mode
    message = user.person.outbox.first()
    code = re.search(r"\d{6}", message.body).group(0)
    assert client.post("/eid/login/code/", {"code": code})["Location"] == "/onestop/mine/"


def test_demo_mode_shows_the_code_on_the_page_and_in_the_log(db, settings, caplog):
    settings.DEMO_MODE = True
    user = _citizen(2)
    client = Client()
    with caplog.at_level("WARNING", logger="smartgov.eid"):
        client.post("/eid/login/", {"identifier": user.person.id_number, "password": PASSWORD})
    page = client.get("/eid/login/code/").content.decode()
    code = re.search(r'<strong class="code">(\d{6})</strong>', page).group(1)
    assert "演示模式" in page and code in caplog.text
    assert client.post("/eid/login/code/", {"code": code})["Location"] == "/my/"


def test_citizen_home_lists_cases_licences_inbox_and_eid_and_the_workbench_is_for_staff(db):
    user = _citizen(3)
    client = Client()
    client.force_login(user)
    assert client.get("/workbench/")["Location"] == "/my/"
    page = client.get("/my/").content.decode()
    for part in ("my-cases", "my-inbox", "my-licences", "my-eid"):
        assert f'data-testid="{part}"' in page
    assert "一网通办上线后" not in page
    staff = f.staff_client(f.user(Role.OFFICER))
    assert staff.get("/my/")["Location"] == "/workbench/"


def test_one_inbox_holds_case_notices_and_eid_messages(db):
    from smartgov.onestop import notify

    user = _citizen(4)
    eid_services.send_one_time_code(person=user.person, purpose="login")
    notify.send(user=user, title="申请已提交", body="办件 X")
    client = Client()
    client.force_login(user)
    page = client.get("/inbox/").content.decode()
    assert "申请已提交" in page and "验证码" in page and 'data-kind="eid"' in page and 'data-kind="case"' in page
    assert 'data-testid="inbox"' not in client.get("/eid/").content.decode()  # no second inbox on the EID page
    client.post("/inbox/")
    assert not user.person.outbox.filter(read_at=None).exists()
    assert 'data-testid="unread"' not in client.get("/inbox/").content.decode()


def test_links_that_would_be_refused_are_not_shown(db):
    home = Client().get("/").content.decode()
    assert 'href="/audit/"' not in home and 'href="/trace/"' not in home and 'href="/grain/supervision/"' not in home
    user = _citizen(5)
    citizen = Client()
    citizen.force_login(user)
    page = citizen.get("/").content.decode()
    assert 'href="/audit/"' not in page and 'href="/trace/"' not in page and 'href="/eid/"' in page
    officer = f.staff_client(f.user(Role.OFFICER))
    for url in ("/", "/workbench/"):
        page = officer.get(url).content.decode()
        assert 'href="/eid/"' not in page and 'href="/audit/"' not in page, url
