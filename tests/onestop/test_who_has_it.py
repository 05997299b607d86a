"""Who has the case: the applicant sees the department and step (never an officer's name); the officer
sees the step's role, so they know whom to pass it to."""

from smartgov.onestop import services
from tests.onestop.conftest import citizen_client, officer_client, world  # noqa: F401
from tests.onestop.test_pages import apply_page


def test_case_pages_say_which_department_and_step_hold_the_case(world, citizen_client, officer_client):  # noqa: F811
    app = apply_page(citizen_client, world)
    services.start_prereview(actor=world["officer"], application=app)
    services.accept(actor=world["officer"], application=app)
    services.review(actor=world["officer"], application=app, outcome="approve", opinion="符合条件")
    app.refresh_from_db()
    task = app.instance.tasks.get(status="open")
    page = citizen_client.get(f"/onestop/cases/{app.number}/").content.decode()
    box = page.split('data-testid="who-has-it"', 1)[1].split("</div>", 1)[0]
    assert world["regulator"].name in box and task.name in box
    assert world["chief"].name not in box and world["officer"].name not in box
    staff = officer_client.get(f"/onestop/work/{app.number}/").content.decode()
    assert 'data-testid="holder-role"' in staff and task.get_role_display() in staff
