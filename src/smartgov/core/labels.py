"""Chinese labels (with English translations through gettext) for the codes the platform stores and
shows: audit actions (``accounts.login.succeeded`` → 账号 · 登录 · 成功), role codes and the like.
A code with no label is shown as itself, so a new action is never hidden — the label test lists
every action the code records and fails when one has no label."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .permissions import Role

SEGMENTS = {
    # apps
    "accounts": _("账号"), "audit": _("审计"), "bench": _("基准测试"), "biometrics": _("生物特征"),
    "core": _("平台"), "eid": _("电子身份"), "grain": _("粮库"), "identity": _("人口法人库"),
    "licences": _("电子证照"), "onestop": _("一网通办"), "trace": _("药品追溯"), "workflow": _("流程"),
    # things
    "department": _("部门"), "department_key": _("部门密钥"), "login": _("登录"), "password": _("密码"),
    "personal_data": _("个人信息"), "supervision": _("监督关系"), "totp": _("动态口令"), "user": _("用户"),
    "template": _("特征模板"), "citizen": _("群众"), "consent": _("授权"), "credential": _("EID凭证"),
    "kiosk": _("自助终端"), "otp": _("验证码"), "partner": _("接入应用"), "vid": _("虚拟身份号"),
    "alert": _("告警"), "depot": _("粮库"), "lot": _("货位"), "movement": _("出入库"), "parameters": _("参数"),
    "price": _("粮价"), "scan": _("粮情检测"), "stock": _("库存"), "warehouse": _("仓房"),
    "enterprise": _("法人"), "person": _("自然人"), "licence": _("证照"), "type": _("证照类型"),
    "application": _("办件"), "bundle": _("一件事"), "item": _("事项"), "material": _("材料"),
    "rectification": _("整改工单"), "batch": _("批次"), "capture": _("EPCIS采集"), "capture_key": _("采集密钥"),
    "codes": _("追溯码"), "logger": _("温度记录仪"), "organisation": _("单位"), "product": _("产品"),
    "readings": _("温度读数"), "recall": _("召回"), "vaccination": _("接种"), "vaccinee_contacts": _("受种者联系方式"),
    # what happened
    "create": _("创建"), "update": _("修改"), "failed": _("失败"), "succeeded": _("成功"), "change": _("修改"),
    "view": _("查看"), "grant": _("授予"), "begin": _("开始绑定"), "confirm": _("确认"), "reset": _("重置"),
    "locked": _("锁定"), "set_role": _("设置角色"), "unlock": _("解锁"), "export": _("导出"), "append": _("写入"),
    "identify": _("1:N识别"), "delete": _("删除"), "duplicate_override": _("重复确认放行"), "enrol": _("登记"),
    "reencrypt": _("重新加密"), "register": _("登记"), "revoke": _("撤销"), "issue": _("签发"),
    "approve": _("确认"), "challenge": _("挑战"), "send": _("发送"), "verify": _("核验"), "handle": _("处置"),
    "store": _("入仓"), "in": _("入库"), "out": _("出库"), "import": _("导入"), "ingest": _("接收"),
    "check": _("核查"), "link_account": _("关联账号"), "lookup": _("查询"), "reveal": _("查看明文"),
    "persons": _("自然人"), "enterprises": _("法人"), "cancel": _("注销"), "expire": _("到期"),
    "share": _("共享"), "submit": _("提交"), "evaluate": _("好差评"), "publish": _("发布"), "open": _("开立"),
    "close": _("关闭"), "reply": _("答复"), "acknowledge": _("确认"), "release": _("解除存疑"),
    "record": _("记录"), "complete": _("完成"), "start": _("发起"), "complete_task": _("办理环节"),
    "define_process": _("定义流程"), "escalate": _("督办"), "reassign": _("改派"), "resume": _("恢复计时"),
    "suspend": _("暂停计时"), "prereview": _("预审"), "accept": _("受理"), "not_accept": _("不予受理"),
    "supplement": _("补正"), "review": _("审查"), "decide": _("决定"), "deliver": _("送达"),
    "withdraw": _("撤回"), "draft": _("保存草稿"), "special": _("特别程序"), "intake": _("入库"),
    "outtake": _("出库"), "request_supplement": _("一次性告知补正"), "special_procedure": _("特别程序"),
    "end_special_procedure": _("结束特别程序"),
}


def action_label(code: str) -> str:
    """``accounts.login.succeeded`` → 账号 · 登录 · 成功 (in the active language); unknown parts as is."""
    return " · ".join(str(SEGMENTS.get(part, part)) for part in (code or "").split("."))


def unlabelled_segments(code: str) -> list[str]:
    return [part for part in (code or "").split(".") if part not in SEGMENTS]


def role_label(code: str) -> str:
    """A role code (``dept_admin``) as its Chinese label (部门管理员), in the active language."""
    return gettext(Role(code).label) if code in Role.values else (code or "")
