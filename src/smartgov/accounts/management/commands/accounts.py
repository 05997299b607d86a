"""``smartgov accounts create-user`` — make an account from the server's shell.

Without ``--as`` this is the installation acting (``system_actor("accounts.command")``): the only way
the three administrator roles (sysadmin, secadmin, auditadmin) come into being (三员分立). With ``--as USERNAME`` the same
rules as the API and the admin apply to that user. The password is read from standard input (or a
file), never from the command line where other users of the machine could see it."""

import sys

from django.core.management.base import BaseCommand, CommandError

from smartgov.accounts import services
from smartgov.accounts.models import Department, User
from smartgov.core.errors import DomainError
from smartgov.core.permissions import Role, system_actor


class Command(BaseCommand):
    help = "账号管理 / accounts: create-user"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("create-user", help="新建账号 / create an account")
        c.add_argument("--username", required=True)
        c.add_argument("--role", required=True, choices=[r.value for r in Role])
        c.add_argument("--name", default="")
        c.add_argument("--department", default="", help="部门代码 / department code")
        c.add_argument("--password-file", default="", help="read the password from this file (default: stdin)")
        c.add_argument("--as", dest="acting_as", default="",
                       help="act as this user (their rights apply); default: the installation")

    def handle(self, *args, action, username, role, name, department, password_file, acting_as, **options):
        actor = system_actor("accounts.command")  # the installation, unless --as names a user
        if acting_as:
            user = User.objects.filter(username=acting_as, is_active=True).first()
            if user is None:
                raise CommandError(f"没有这个账号：{acting_as} / no such user")
            actor = user
        dept = None
        if department:
            dept = Department.objects.filter(code=department).first()
            if dept is None:
                raise CommandError(f"没有这个部门：{department} / no such department")
        if password_file:
            with open(password_file, encoding="utf-8") as fh:
                password = fh.read().strip()
        else:
            password = sys.stdin.readline().strip()
        if not password:
            raise CommandError("密码不能为空（从标准输入或 --password-file 读取）/ empty password")
        try:
            user = services.create_user(actor=actor, username=username, password=password, role=role,
                                        name=name, department=dept)
        except DomainError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]", returncode=2) from exc
        self.stdout.write(f"已创建账号 {user.username}（{user.get_role_display()}）/ created")
