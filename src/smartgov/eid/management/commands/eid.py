"""``smartgov eid partner add --code C --name N [--attributes name,birth_date]`` — register a relying
application and print its API key (shown once); ``smartgov eid check PAYLOAD`` — check an EID QR."""

from django.core.management.base import BaseCommand, CommandError

from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor
from smartgov.eid import services


class Command(BaseCommand):
    help = "EID：依赖方应用注册、EID核验 / EID partners and checks"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        partner = sub.add_parser("partner", help="依赖方应用 / relying applications")
        psub = partner.add_subparsers(dest="partner_action", required=True)
        add = psub.add_parser("add", help="注册并输出API密钥 / register and print the API key")
        add.add_argument("--code", required=True)
        add.add_argument("--name", required=True)
        add.add_argument("--attributes", default="", help="comma-separated e-KYC attributes it may request")
        check = sub.add_parser("check", help="核验EID二维码内容 / check an EID QR payload")
        check.add_argument("payload")

    def handle(self, *args, action, **options):
        try:
            if action == "partner":
                attrs = [a.strip() for a in options["attributes"].split(",") if a.strip()]
                partner, key = services.register_partner(actor=system_actor("eid.command"), code=options["code"], name=options["name"],
                                                         allowed_attributes=attrs)
                self.stdout.write(f"已注册 {partner.name}（{partner.code}）。API密钥（只显示这一次）：")
                self.stdout.write(key)
                return
            outcome = services.verify_eid_payload(options["payload"])
        except DomainError as exc:
            raise CommandError(f"{exc.message}（{exc.code}）", returncode=2) from exc
        if not outcome.ok:
            raise CommandError(f"{outcome.message}（{outcome.code}）", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{outcome.message}：{outcome.claims['name']} {outcome.claims['eid']}"))
