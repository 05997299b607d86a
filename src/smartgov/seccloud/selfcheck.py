"""等保 2.0 self-check (网络安全等级保护 第三级, GB/T 22239-2019; 商用密码应用 GB/T 39786-2021).

Each item is evaluated against the live configuration and data of this platform and carries its
evidence. Department systems that are not this platform are self-assessed by questionnaire (the same
clauses, answered by the department). The score is the share of items met.
"""

import io
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from smartgov.accounts.selectors import users_for
from smartgov.audit import services as audit_services
from smartgov.audit.services import record
from smartgov.core import permissions
from smartgov.core.crypto import keys
from smartgov.core.crypto.kat import run_selftest
from smartgov.core.errors import InvalidInput
from smartgov.core.fields import EncryptedField
from smartgov.core.pdf import CJK, register_cjk_font, wrap_text
from smartgov.core.permissions import ADMIN_TRIAD, STAFF_ROLES, require, system_actor

from . import ingest, services
from .models import SelfCheck, TreeHead
from .store import head


@dataclass
class Item:
    code: str
    clause: str
    title: str
    passed: bool
    evidence: str


def _two_factor() -> Item:
    staff = users_for(system_actor("seccloud.selfcheck")).filter(role__in=list(STAFF_ROLES), is_active=True)
    used = staff.exclude(last_login=None)
    missing = list(used.filter(totp_confirmed_at=None).values_list("username", flat=True)[:10])
    return Item("2fa", "GB/T 22239 8.1.4.1 d)", "工作人员双因子登录（口令 + TOTP）", not missing,
                f"在用工作人员 {staff.count()} 人，已登录过 {used.count()} 人；未绑定第二因子而登录过的：{missing or '无'}。"
                "登录流程对工作人员角色强制第二因子。")


def _password_policy() -> Item:
    names = {v["NAME"].rsplit(".", 1)[-1]: v.get("OPTIONS", {}) for v in settings.AUTH_PASSWORD_VALIDATORS}
    min_len = names.get("MinimumLengthValidator", {}).get("min_length", 8 if "MinimumLengthValidator" in names else 0)
    ok = min_len >= 8 and "CommonPasswordValidator" in names and "NumericPasswordValidator" in names
    return Item("password", "GB/T 22239 8.1.4.1 a)", "口令复杂度与长度", ok,
                f"最小长度 {min_len}；校验器：{', '.join(sorted(names))}")


def _lockout() -> Item:
    ok = 0 < settings.LOGIN_MAX_FAILURES <= 5 and settings.LOGIN_LOCKOUT_MINUTES >= 10
    return Item("lockout", "GB/T 22239 8.1.4.1 b)", "登录失败处理（锁定）", ok,
                f"连续失败 {settings.LOGIN_MAX_FAILURES} 次锁定 {settings.LOGIN_LOCKOUT_MINUTES} 分钟")


def _session_timeout() -> Item:
    age = settings.SESSION_COOKIE_AGE
    return Item("session", "GB/T 22239 8.1.4.1 b)", "会话超时自动退出", 0 < age <= 1800,
                f"空闲 {age} 秒后会话失效；关闭浏览器即失效：{settings.SESSION_EXPIRE_AT_BROWSER_CLOSE}")


def _retention() -> Item:
    days = settings.SECCLOUD_RETENTION_DAYS
    return Item("retention", "GB/T 22239 8.1.4.3 c); 网络安全法第二十一条", "日志留存不少于六个月", days >= 180,
                f"安全云日志保留 {days} 天，过期按天清理（作业）；审计日志只追加、不删除")


def _audit_chain(actor) -> Item:
    result = audit_services.verify_and_keep(actor=actor, workers=1)  # kept: the overview shows the latest
    problems = "；".join(result.problems[:3])
    return Item("audit_chain", "GB/T 22239 8.1.4.3 c); GB/T 39786 9.2", "审计记录完整性（SM3链与SM2签名检查点）",
                result.ok, f"校验 {result.entries} 条、检查点 {result.checkpoints} 个：{'通过' if result.ok else problems}")


def _personal_data() -> Item:
    fields = [f"{m._meta.label}.{f.name}" for m in apps.get_models() for f in m._meta.fields
              if isinstance(f, EncryptedField)]
    try:
        ring = keys.get_keyring()
        configured, version = True, ring.current_version
    except keys.KeyConfigurationError:
        configured, version = False, None
    return Item("pii_encrypted", "GB/T 22239 8.1.4.8; GB/T 39786 9.4 (重要数据存储机密性)",
                "个人信息加密存储（SM4-GCM）", configured and bool(fields),
                f"主密钥已配置：{configured}（当前版本 {version}）；加密字段 {len(fields)} 个：{', '.join(fields[:12])}…")


def _triad() -> Item:
    users = users_for(system_actor("seccloud.selfcheck")).filter(is_active=True)
    present = {r: users.filter(role=r).count() for r in ADMIN_TRIAD}
    # reading and verifying may be shared (the auditor reads what the others do); powers may not
    overlap = [name for name, roles in permissions._REGISTRY.items()
               if len(roles & ADMIN_TRIAD) > 1 and not name.split(".", 1)[1].startswith(READ_ONLY)]
    ok = all(present.values()) and not overlap
    return Item("triad", "GB/T 22239 8.1.4.2 (三员分立)", "系统/安全/审计管理员分设且权限分离", ok,
                f"三员人数：{ {str(k): v for k, v in present.items()} }；同时授予多个三员角色的管理权限：{overlap or '无'}（只读/校验权限可共享）")


def _cookies() -> Item:
    ok = settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE and settings.SESSION_COOKIE_HTTPONLY
    return Item("cookies", "GB/T 22239 8.1.4.4", "会话Cookie Secure/HttpOnly", bool(ok),
                f"SESSION_COOKIE_SECURE={settings.SESSION_COOKIE_SECURE}, CSRF_COOKIE_SECURE={settings.CSRF_COOKIE_SECURE}, "
                f"HttpOnly={settings.SESSION_COOKIE_HTTPONLY}（生产环境设置 SMARTGOV_SECURE_COOKIES=true）")


def _tls() -> Item:
    hsts = getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    redirect = getattr(settings, "SECURE_SSL_REDIRECT", False)
    ok = bool(proxy or redirect) and hsts >= 31536000 if settings.SESSION_COOKIE_SECURE else False
    return Item("tls", "GB/T 22239 8.1.3.1; GB/T 39786 9.2 (通信传输)", "HTTPS部署（代理头、HSTS、跳转）", ok,
                f"SECURE_PROXY_SSL_HEADER={proxy}, SECURE_SSL_REDIRECT={redirect}, SECURE_HSTS_SECONDS={hsts}")


def _crypto_selftest() -> Item:
    results = run_selftest()
    bad = [name for name, ok, _ in results if not ok]
    return Item("crypto_kat", "GB/T 39786 (密码算法合规)", "SM2/SM3/SM4 标准测试向量自检", not bad,
                f"{len(results)} 项，未通过：{bad or '无'}")


def _tree_heads() -> Item:
    size, _ = head()
    latest = TreeHead.objects.first()
    age = (timezone.now().timestamp() * 1000 - latest.timestamp_ms) / 1000 if latest else None
    ok = size == 0 or (latest is not None and (latest.tree_size == size or age <= 120))
    return Item("log_sth", "GB/T 22239 8.1.4.3 d)", "安全日志防篡改（Merkle树与SM2签名树头）", ok,
                f"日志 {size} 条；最新签名树头 {latest.tree_size if latest else '无'}，距今 {round(age) if age is not None else '—'} 秒")


READ_ONLY = ("view", "verify", "self_check")

CHECKS = [_two_factor, _password_policy, _lockout, _session_timeout, _retention, _audit_chain, _personal_data,
          _triad, _cookies, _tls, _crypto_selftest, _tree_heads]

QUESTIONS = [  # department systems: the same clauses as questions
    ("2fa", "GB/T 22239 8.1.4.1 d)", "管理员是否使用两种或以上鉴别方式登录？"),
    ("password", "GB/T 22239 8.1.4.1 a)", "是否有口令复杂度与定期更换要求？"),
    ("lockout", "GB/T 22239 8.1.4.1 b)", "是否有登录失败锁定与会话超时？"),
    ("audit", "GB/T 22239 8.1.4.3 a)", "是否对每个用户的重要操作进行审计？"),
    ("audit_fields", "GB/T 22239 8.1.4.3 b)", "审计记录是否包含日期时间、用户、事件类型、结果？"),
    ("audit_protect", "GB/T 22239 8.1.4.3 c)", "审计记录是否防删除、防修改，并留存六个月以上？"),
    ("audit_process", "GB/T 22239 8.1.4.3 d)", "审计进程是否受保护、不能被中断？"),
    ("triad", "GB/T 22239 8.1.4.2", "是否设置系统、安全、审计管理员并权限分离？"),
    ("pii", "GB/T 39786 9.4", "重要数据与个人信息是否使用商用密码加密存储？"),
    ("tls", "GB/T 39786 9.2", "通信是否使用国密或经认可的TLS保护？"),
    ("syslog", "GB/T 22239 8.1.10.6", "日志是否集中汇聚到安全管理中心（本安全云）？"),
]


def _score(items) -> int:
    return round(100 * sum(1 for i in items if i["passed"]) / len(items)) if items else 0


@transaction.atomic
def run_self_check(*, actor) -> SelfCheck:
    require(actor, "seccloud.self_check")
    items = [asdict(check(actor) if check is _audit_chain else check()) for check in CHECKS]
    check = SelfCheck.objects.create(actor=_name(actor), score=_score(items), items=items)
    record(actor=actor, action="seccloud.selfcheck.run", target=check, changes={"score": check.score})
    if not next(i for i in items if i["code"] == "audit_chain")["passed"]:
        _report_audit_failure(actor)
    return check


def _report_audit_failure(actor) -> None:
    """An audit-chain verification failure becomes an event of the platform source (rule: critical)."""
    ev = {"at": datetime.now(UTC), "host": settings.SECCLOUD_PLATFORM_HOST, "app": "smartgov", "severity": 2,
          "user": _name(actor), "src_ip": "", "action": "audit.verify.failed", "outcome": "failure",
          "message": "audit trail verification failed", "raw": "audit.verify.failed", "extra": {}}
    ingest.store_events(actor=actor, source=services.platform_source(), events=[ev], bad=[], transport="selfcheck")


@transaction.atomic
def assess_system(*, actor, department, system_name: str, answers: dict[str, bool]) -> SelfCheck:
    """A department's questionnaire for one of its systems."""
    require(actor, "seccloud.manage_source", department=department)
    system_name = (system_name or "").strip()
    if not system_name:
        raise InvalidInput("请填写系统名称", code="system_name_required")
    unknown = set(answers) - {q[0] for q in QUESTIONS}
    if unknown:
        raise InvalidInput("未知的检查项", code="unknown_question", detail=sorted(unknown))
    items = [{"code": code, "clause": clause, "title": text, "passed": bool(answers.get(code)),
              "evidence": "部门自评" + ("：是" if answers.get(code) else "：否")} for code, clause, text in QUESTIONS]
    check = SelfCheck.objects.create(actor=_name(actor), score=_score(items), items=items, system_name=system_name[:100],
                                     department=department)
    record(actor=actor, action="seccloud.selfcheck.assess", target=check,
           changes={"system": system_name, "score": check.score, "department": department.pk})
    return check


def _name(actor) -> str:
    return actor.get_username() if hasattr(actor, "get_username") else str(actor)


def render_pdf(check: SelfCheck) -> bytes:
    """The self-check report: A4, score, every item with its clause, result and evidence."""
    register_cjk_font()
    font = CJK
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle("等保2.0自查报告")
    width, height = A4
    y = height - 20 * mm

    def line(text, size=10, indent=0):
        nonlocal y
        for part in wrap_text(text, width - 40 * mm - indent, font, size):
            if y < 20 * mm:
                c.showPage()
                y = height - 20 * mm
            c.setFont(font, size)
            c.drawString(20 * mm + indent, y, part)
            y -= size * 1.5

    line("网络安全等级保护2.0（第三级）与商用密码应用自查报告", 16)
    line(f"对象：{check.system_name or 'SmartGov 智慧政务一体化平台'}    时间：{timezone.localtime(check.at):%Y-%m-%d %H:%M}"
         f"    执行人：{check.actor}", 10)
    line(f"得分：{check.score} / 100", 14)
    for item in check.items:
        line(f"[{'符合' if item['passed'] else '不符合'}] {item['title']}（{item['clause']}）", 11)
        line(item["evidence"], 9, indent=6 * mm)
    c.showPage()
    c.save()
    return buf.getvalue()

