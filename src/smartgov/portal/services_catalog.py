"""What the portal home lists: the platform core and the five products, with where each lives."""

from django.utils.translation import gettext_lazy as _

# (key, title, description, audience, url name or None while the app is not installed yet)
PLATFORM_SERVICES = [
    ("onestop", _("一网通办"), _("一件事一次办：办事指南、一件事集成办理、材料复用、好差评"), _("群众 · 企业"),
     "onestop:hall"),
    ("identity", _("EID与电子证照"), _("电子身份认证、实名核验、电子证照亮证与核验"), _("群众 · 企业 · 部门"),
     "eid:mine"),
    ("exchange", _("数据共享交换"), _("部门数据资源目录、共享申请与审批、签名留痕的数据交换"), _("部门"),
     "exchange:catalogue"),
    ("security", _("安全底座"), _("SM2/SM3/SM4 商用密码、防篡改审计、双因子登录、三员分立"), _("安全与审计管理员"),
     "audit:entries"),
    ("hall", _("出入境智慧大厅"), _("网上预约、排队叫号、自助填表与取证、大厅实时看板"), _("群众 · 窗口"), None),
    ("seccloud", _("智慧安全云"), _("安全日志集中采集、检测规则、告警事件、等保合规自查"), _("安全管理员"), None),
    ("trace", _("药品（疫苗）追溯监管"), _("EPCIS 2.0 追溯、冷链温度、召回与监管预警"), _("企业 · 疾控 · 监管"), "trace:dashboard"),
    ("grain", _("智能粮库与粮食监管"), _("粮情测控、通风决策、出入库与账实相符、库点监管"), _("粮库 · 粮食局"), "grain:supervision"),
    ("park", _("智慧园区"), _("园区企业与租约、设备遥测与告警、能耗分析、访客"), _("园区 · 企业"), None),
]
