"""The one-stop pages: who may open each, the apply and 一件事 forms round-trip, officer actions through
the case page, supplement, 好差评 and the queue's SLA cards."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from smartgov.core.permissions import Role, system_actor
from smartgov.onestop import services
from smartgov.onestop.models import Application, Notification, Rectification, State, Submission
from smartgov.workflow.models import Instance
from tests import factories as f
from tests.onestop.conftest import COMPANY_FORM

pytestmark = pytest.mark.django_db


def pdf(name="a.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 test", "application/pdf")


def company_post(**over):
    data = {"answers.premises_owned": "yes", **{f"field.{k}": v for k, v in COMPANY_FORM.items()},
            "materials.articles": pdf()}
    data.update(over)
    return data


def apply_page(client, world, **over) -> Application:
    resp = client.post(f"/onestop/items/{world['company'].implementation_code}/apply/", company_post(**over))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    return Application.objects.latest("id")


def act(client, app, action, **data):
    resp = client.post(f"/onestop/work/{app.number}/act/{action}/", data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    app.refresh_from_db()
    return client.get(resp["Location"])


# --------------------------------------------------------------------------- citizens


def test_hall_lists_bundles_and_items_by_department_for_anyone(world, client):
    resp = client.get("/onestop/")
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "开办企业一件事" in body and "有限责任公司设立登记" in body and world["tax"].name in body
    assert 'href="/onestop/bundles/TKBQY/"' in body
    resp = client.get("/onestop/", {"q": "开公司"})  # the guide answers, or the page says it is unavailable
    assert resp.status_code == 200
    assert 'data-testid="guide-hits"' in resp.content.decode() or "guide-unavailable" in resp.content.decode() \
        or "guide-empty" in resp.content.decode()


def test_item_guide_shows_the_facts_and_the_answers_change_the_material_list(world, client, citizen_client):
    code = world["company"].implementation_code
    body = client.get(f"/onestop/items/{code}/").content.decode()
    assert "市场主体登记管理条例" in body and "市民中心" in body and "经营场所是否自有" in body
    fragment = client.get(f"/onestop/items/{code}/plan/", {"answers.premises_owned": "no"},
                          HTTP_HX_REQUEST="true").content.decode()
    assert "租赁合同" in fragment and "<html" not in fragment
    fragment = client.get(f"/onestop/items/{code}/plan/", {"answers.premises_owned": "yes"},
                          HTTP_HX_REQUEST="true").content.decode()
    assert "租赁合同" not in fragment and "公司章程" in fragment
    # signed in: the register supplies the ID card and the name is prefilled
    fragment = citizen_client.get(f"/onestop/items/{code}/plan/", {"answers.premises_owned": "yes"},
                                  HTTP_HX_REQUEST="true").content.decode()
    assert "人口库（本人身份信息）" in fragment and "王小明" in fragment
    assert client.get("/onestop/items/NOPE/").status_code == 404


def test_apply_needs_a_signed_in_applicant(world, client, officer_client):
    url = f"/onestop/items/{world['company'].implementation_code}/apply/"
    assert client.get(url).status_code == 302
    assert officer_client.get(url).status_code == 403
    assert officer_client.get("/onestop/mine/").status_code == 403


def test_apply_form_is_prefilled_and_a_submission_creates_the_case(world, citizen_client):
    url = f"/onestop/items/{world['company'].implementation_code}/apply/"
    body = citizen_client.get(url, {"answers.premises_owned": "no"}).content.decode()
    assert 'name="field.applicant_name"' in body and 'value="王小明"' in body
    assert 'name="materials.lease"' in body and 'name="materials.id_card"' not in body  # register supplies it
    app = apply_page(citizen_client, world)
    assert app.state == State.SUBMITTED and app.applicant_user == world["citizen"]
    assert app.form_data["enterprise_name"] == COMPANY_FORM["enterprise_name"]
    assert {m.key: m.source for m in app.materials.all()} == {"id_card": "register", "articles": "upload"}
    page = citizen_client.get(f"/onestop/cases/{app.number}/").content.decode()
    assert app.number in page and "已提交待预审" in page and 'data-testid="timeline"' in page


def test_an_invalid_application_re_renders_with_messages_and_typed_values_and_creates_nothing(world, citizen_client):
    url = f"/onestop/items/{world['company'].implementation_code}/apply/"
    data = company_post(**{"field.enterprise_name": "", "field.registered_capital": "很多",
                           "field.business_scope": "卖奶茶"})
    data.pop("materials.articles")
    resp = citizen_client.post(url, data)
    body = resp.content.decode()
    assert resp.status_code == 422
    assert "请填写企业名称" in body and "注册资本（万元）格式不正确" in body and "请提供公司章程" in body
    assert "卖奶茶" in body and 'value="很多"' in body
    assert not Application.objects.exists()


def test_changing_an_answer_on_the_form_refreshes_the_form_body_keeping_values(world, citizen_client):
    url = f"/onestop/items/{world['company'].implementation_code}/apply/"
    resp = citizen_client.post(url, {"answers.premises_owned": "no", "field.business_scope": "软件开发",
                                     "_refresh": "1"}, HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200 and "<html" not in body
    assert "租赁合同" in body and "软件开发" in body and not Application.objects.exists()


def test_bundle_form_asks_once_shows_the_produced_material_and_submits_both_cases(world, citizen_client):
    url = "/onestop/bundles/TKBQY/"
    body = citizen_client.get(url).content.decode()
    assert body.count('name="field.enterprise_name"') == 1
    assert "由本一件事中的〈有限责任公司设立登记〉办理结果自动提供" in body
    resp = citizen_client.post(url, company_post())
    assert resp.status_code == 302 and resp["Location"].startswith("/onestop/mine/")
    submission = Submission.objects.get()
    apps = list(submission.applications.order_by("id"))
    assert [a.item for a in apps] == [world["company"], world["tax_item"]]
    mine = citizen_client.get("/onestop/mine/").content.decode()
    assert f'id="submission-{submission.pk}"' in mine and all(a.number in mine for a in apps)


def test_bundle_errors_keep_the_answers_and_create_nothing(world, citizen_client):
    resp = citizen_client.post("/onestop/bundles/TKBQY/", company_post(**{"field.enterprise_name": ""}))
    assert resp.status_code == 422 and "请填写企业名称" in resp.content.decode()
    assert not Submission.objects.exists() and not Application.objects.exists()


def test_case_page_is_the_applicants_own(world, citizen_client, officer_client):
    app = apply_page(citizen_client, world)
    other = Client()
    other.force_login(f.user(Role.CITIZEN))
    assert other.get(f"/onestop/cases/{app.number}/").status_code == 404
    resp = officer_client.get(f"/onestop/cases/{app.number}/")
    assert resp.status_code == 302 and resp["Location"] == f"/onestop/work/{app.number}/"
    assert Client().get(f"/onestop/cases/{app.number}/").status_code == 302


def test_withdraw_from_the_case_page(world, citizen_client):
    app = apply_page(citizen_client, world)
    citizen_client.post(f"/onestop/cases/{app.number}/withdraw/", {"reason": "不办了"})
    app.refresh_from_db()
    assert app.state == State.WITHDRAWN


# --------------------------------------------------------------------------- officers


def test_officer_actions_through_the_page_run_the_case_to_closed(world, citizen_client, officer_client,
                                                                chief_client):
    app = apply_page(citizen_client, world)
    page = officer_client.get(f"/onestop/work/{app.number}/").content.decode()
    assert COMPANY_FORM["business_scope"] in page and 'data-testid="act-prereview"' in page
    assert 'data-testid="act-accept"' not in page
    act(officer_client, app, "prereview")
    assert app.state == State.PREREVIEW
    page = act(officer_client, app, "accept", opinion="材料齐全").content.decode()
    assert app.state == State.ACCEPTED and "已受理" in page and 'data-testid="act-approve"' in page
    act(officer_client, app, "review", outcome="approve", opinion="符合条件")
    assert app.state == State.REVIEW
    page = officer_client.get(f"/onestop/work/{app.number}/").content.decode()
    assert 'data-testid="act-approve"' not in page  # the decision is the department head's
    page = act(officer_client, app, "review", outcome="approve").content.decode()
    assert app.state == State.REVIEW and "当前环节不由您办理" in page
    act(chief_client, app, "review", outcome="approve", opinion="准予")
    assert app.state == State.APPROVED
    act(officer_client, app, "issue")
    assert app.state == State.ISSUED and app.result_licence is not None
    page = act(officer_client, app, "deliver", method="courier", detail="").content.decode()
    assert app.state == State.ISSUED and "邮寄送达须填写运单号" in page  # the service's message, shown
    act(officer_client, app, "deliver", method="electronic")
    act(officer_client, app, "close")
    assert app.state == State.CLOSED
    mine = citizen_client.get(f"/onestop/cases/{app.number}/").content.decode()
    assert app.result_licence.identifier in mine and "/licences/wallet/" in mine and "出证" in mine


def test_other_departments_and_citizens_cannot_see_or_act(world, citizen_client):
    app = apply_page(citizen_client, world)
    tax = f.staff_client(world["tax_officer"])
    assert tax.get(f"/onestop/work/{app.number}/").status_code == 404
    assert tax.post(f"/onestop/work/{app.number}/act/prereview/").status_code == 404
    assert citizen_client.get("/onestop/work/").status_code == 403
    assert citizen_client.post(f"/onestop/work/{app.number}/act/prereview/").status_code == 403
    app.refresh_from_db()
    assert app.state == State.SUBMITTED


def test_supplement_pauses_the_clock_and_the_applicant_uploads_from_the_case_page(world, citizen_client,
                                                                                  officer_client):
    app = apply_page(citizen_client, world)
    act(officer_client, app, "prereview")
    act(officer_client, app, "accept")
    page = act(officer_client, app, "request_supplement", materials=["articles"], opinion="章程缺少签字页").content
    assert app.state == State.SUPPLEMENT and 'data-testid="sla-paused"' in page.decode()
    queue = officer_client.get("/onestop/work/").content.decode()
    assert "暂停计时" in queue
    case = citizen_client.get(f"/onestop/cases/{app.number}/").content.decode()
    assert 'data-testid="supplement"' in case and 'name="materials.articles"' in case and "章程缺少签字页" in case
    resp = citizen_client.post(f"/onestop/cases/{app.number}/supplement/", {"materials.articles": pdf("b.pdf")})
    assert resp.status_code == 302
    app.refresh_from_db()
    assert app.state == State.ACCEPTED


def test_officer_checks_an_uploaded_original_and_streams_the_file(world, citizen_client, officer_client):
    app = apply_page(citizen_client, world)
    stored = app.materials.get(key="articles").stored
    assert officer_client.get(f"/onestop/materials/{stored.pk}/").status_code == 200
    assert citizen_client.get(f"/onestop/materials/{stored.pk}/").status_code == 200
    other = Client()
    other.force_login(f.user(Role.CITIZEN))
    assert other.get(f"/onestop/materials/{stored.pk}/").status_code == 404
    assert f.staff_client(world["tax_officer"]).get(f"/onestop/materials/{stored.pk}/").status_code == 404
    officer_client.post(f"/onestop/work/{app.number}/check/{stored.pk}/")
    assert app.materials.get(key="articles").trust_level == "B"


def test_queue_shows_a_red_card_for_a_late_case_and_filters(world, citizen_client, officer_client):
    late = apply_page(citizen_client, world)
    other = apply_page(citizen_client, world)
    act(officer_client, late, "prereview")
    act(officer_client, late, "accept")
    ten_days_ago = datetime.date.today() - datetime.timedelta(days=10)  # as if the clock had run out
    Instance.objects.filter(pk=late.instance_id).update(due_on=ten_days_ago)
    Application.objects.filter(pk=late.pk).update(due_on=ten_days_ago)
    body = officer_client.get("/onestop/work/").content.decode()
    row = body[body.index(late.number) - 400:body.index(late.number) + 1200]
    assert 'class="red"' in row and "红牌" in row
    assert body.index(late.number) < body.index(other.number)  # most urgent first
    assert "已提交待预审（1）" in body and "已受理（1）" in body  # the state filter counts the queue
    filtered = officer_client.get("/onestop/work/", {"state": "submitted"}).content.decode()
    assert other.number in filtered and late.number not in filtered
    assert late.number in officer_client.get("/onestop/work/", {"q": late.number}).content.decode()
    assert late.number in officer_client.get("/onestop/work/", {"q": "王小"}).content.decode()


# --------------------------------------------------------------------------- evaluation and rectification


def test_a_bad_evaluation_from_the_page_opens_a_ticket_the_department_answers(world, citizen_client,
                                                                             officer_client, chief_client):
    app = apply_page(citizen_client, world)
    act(officer_client, app, "prereview")
    citizen_client.post(f"/onestop/cases/{app.number}/evaluate/", {"grade": "1", "comment": ""})
    assert not Rectification.objects.exists()  # a bad grade needs a reason
    citizen_client.post(f"/onestop/cases/{app.number}/evaluate/", {"grade": "1", "comment": "窗口态度差"})
    ticket = Rectification.objects.get()
    assert ticket.department == world["regulator"]
    assert "非常不满意" in citizen_client.get(f"/onestop/cases/{app.number}/").content.decode()
    page = officer_client.get("/onestop/rectifications/").content.decode()
    assert "窗口态度差" in page and 'data-testid="reply"' in page
    assert citizen_client.get("/onestop/rectifications/").status_code == 403
    officer_client.post(f"/onestop/rectifications/{ticket.pk}/reply/", {"text": "已约谈窗口人员"})
    chief_client.post(f"/onestop/rectifications/{ticket.pk}/follow-up/", {"text": "回访申请人，表示认可"})
    ticket.refresh_from_db()
    assert ticket.status == "closed"


# --------------------------------------------------------------------------- notices, inbox, dashboard


def test_notice_verification_is_public_and_masks_the_applicant_and_the_pdf_is_not(world, citizen_client,
                                                                                 officer_client, client):
    app = apply_page(citizen_client, world)
    act(officer_client, app, "prereview")
    act(officer_client, app, "accept")
    notice = app.notices.get()
    body = client.get(f"/onestop/notices/{notice.number}/").content.decode()
    assert "签名有效" in body and "受理通知书" in body and "王**" in body and "王小明" not in body
    resp = citizen_client.get(f"/onestop/notices/{notice.number}/pdf")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    from tests.core.test_pdf_fonts import assert_embedded_cjk

    assert_embedded_cjk(resp.content)  # the font and the seal's text travel with the notice
    assert officer_client.get(f"/onestop/notices/{notice.number}/pdf").status_code == 200
    other = Client()
    other.force_login(f.user(Role.CITIZEN))
    assert other.get(f"/onestop/notices/{notice.number}/pdf").status_code == 404
    assert client.get(f"/onestop/notices/{notice.number}/pdf").status_code == 302
    assert client.get("/onestop/notices/NOPE/").status_code == 404


def test_inbox_lists_messages_newest_first_and_marks_them_read(world, citizen_client, client):
    app = apply_page(citizen_client, world)
    services.start_prereview(actor=world["officer"], application=app)
    assert citizen_client.get("/onestop/inbox/")["Location"] == "/inbox/"  # the one inbox
    body = citizen_client.get("/inbox/").content.decode()
    assert "申请已提交" in body and 'data-testid="unread"' in body
    citizen_client.post("/inbox/")
    assert not Notification.objects.filter(user=world["citizen"], read_at=None).exists()
    assert client.get("/inbox/").status_code == 302


def test_dashboard_for_staff_with_measures_and_charts(world, citizen_client, officer_client, chief_client):
    apply_page(citizen_client, world)
    body = officer_client.get("/onestop/dashboard/").content.decode()
    assert "vendor/echarts/echarts.min.js" in body and 'id="dashboard-data"' in body
    assert chief_client.get("/onestop/dashboard/").status_code == 200
    assert citizen_client.get("/onestop/dashboard/").status_code == 403


def test_pages_speak_english_when_chosen(world, citizen_client):
    from django.conf import settings

    app = apply_page(citizen_client, world)
    citizen_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Service hall" in citizen_client.get("/onestop/").content.decode()
    body = citizen_client.get(f"/onestop/cases/{app.number}/").content.decode()
    assert "Progress" in body and "Submitted" in body  # the state badge too


@pytest.mark.parametrize("url", ["/onestop/mine/", "/onestop/inbox/", "/onestop/bundles/TKBQY/", "/onestop/work/",
                                 "/onestop/dashboard/", "/onestop/rectifications/", "/workflow/"])
def test_signed_out_visitors_are_sent_to_sign_in(world, client, url):
    resp = client.get(url, follow=True)
    staff_page = not url.startswith(("/onestop/mine/", "/onestop/inbox/", "/onestop/bundles/"))
    # citizens' pages go to the EID sign-in, officers' to the two-factor one, coming back after
    assert resp.redirect_chain[-1][0].startswith("/accounts/login/?next=" if staff_page else "/eid/login/?next=")


@pytest.mark.parametrize(("who", "url"), [
    ("citizen", "/onestop/work/"), ("citizen", "/onestop/dashboard/"), ("citizen", "/onestop/rectifications/"),
    ("citizen", "/workflow/"), ("officer", "/onestop/mine/"), ("officer", "/onestop/bundles/TKBQY/"),
    ("officer", "/onestop/inbox/"),
])
def test_each_page_refuses_the_other_role(world, citizen_client, officer_client, who, url):
    client = citizen_client if who == "citizen" else officer_client
    if url == "/onestop/inbox/":  # everyone signed in has an inbox, staff included
        assert client.get(url, follow=True).status_code == 200
    else:
        assert client.get(url).status_code == 403


def test_every_page_renders_for_its_role(world, citizen_client, officer_client, chief_client):
    app = apply_page(citizen_client, world)
    for url in ["/onestop/", f"/onestop/items/{world['company'].implementation_code}/", "/onestop/bundles/TKBQY/",
                "/onestop/mine/", f"/onestop/cases/{app.number}/", "/inbox/", "/my/"]:
        assert citizen_client.get(url).status_code == 200, url
    for client in (officer_client, chief_client):
        for url in ["/onestop/work/", f"/onestop/work/{app.number}/", "/onestop/rectifications/",
                    "/onestop/dashboard/", "/workflow/"]:
            assert client.get(url).status_code == 200, url
    supervisor = f.staff_client(f.user(Role.SUPERVISOR, department=world["regulator"]))
    page = supervisor.get(f"/onestop/work/{app.number}/").content.decode()
    assert 'data-testid="no-actions"' in page  # supervisors watch, they do not act


def test_list_pages_take_the_same_number_of_queries_however_many_cases(world, citizen_client, officer_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def counts():
        out = []
        for client, url in ((officer_client, "/onestop/work/"), (citizen_client, "/onestop/mine/"),
                            (officer_client, "/workflow/"), (citizen_client, "/onestop/")):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            out.append(len(queries))
        return out

    def accepted_case():
        app = apply_page(citizen_client, world)
        services.start_prereview(actor=world["officer"], application=app)
        services.accept(actor=world["officer"], application=app)

    accepted_case()
    one = counts()
    for _ in range(3):
        accepted_case()
    assert counts() == one


def test_the_hall_reads_the_catalogue_in_a_constant_number_of_queries(world, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smartgov.onestop import services

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/onestop/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(3):
        services.create_item(actor=system_actor("test"), department=world["tax"], basic_code=f"GG0080{i}000", name=f"事项{i}",
                             item_type="GG", content={"legal_limit_days": 1, "promised_limit_days": 1,
                                                      "result": {"kind": "document", "name": "结果"}})
    assert count() == before
