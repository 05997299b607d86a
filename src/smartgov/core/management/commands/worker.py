"""``smartgov worker``: run background jobs from the database queue, and cut audit checkpoints."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from smartgov.core.tasks import schedule_periodic


class Command(BaseCommand):
    help = "运行后台任务 / run the background job worker (database-backed queue)"

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="*", help="queues to take jobs from (default: all)")
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")

    def handle(self, *args, queue_name, batch, interval, **options):
        schedule_periodic()
        args = ["--queue-name", queue_name, "--interval", str(interval)]
        if batch:
            args.append("--batch")
        call_command("db_worker", *args, verbosity=options.get("verbosity", 1))
