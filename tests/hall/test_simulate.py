from django.core.management import call_command

from smartgov.hall.models import HallEvent, Ticket, TicketStatus


def test_simulated_day_runs_through_the_services(hall_world, capsys):
    call_command("hall", "simulate", "--visitors", "120", "--department", hall_world["dept"].code, "--json")
    out = capsys.readouterr().out
    assert '"served"' in out
    tickets = Ticket.objects.filter(hall__code="SIM-120")
    assert tickets.count() > 80
    assert tickets.filter(status=TicketStatus.DONE).count() > 60
    assert not tickets.filter(status__in=[TicketStatus.WAITING, TicketStatus.CALLED]).exists()
    assert tickets.filter(source="appointment").exists() and tickets.filter(priority="green").exists()
    assert HallEvent.objects.filter(hall__code="SIM-120", kind="call").count() >= tickets.filter(
        status=TicketStatus.DONE).count()
