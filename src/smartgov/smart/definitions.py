"""The shape of a department's rules, checked when published.

An entitlement (免申即享)::

    {"benefit": "高龄津贴", "unit": "元/月", "amount": 100, "legal_basis": "…", "recheck_days": 30,
     "item": "JF02004000",              # the department's one-stop item (基本编码) each grant is a case of
     "sources": {"person": {"resource": "JC-SFC-GAJ-00001", "fields": ["name", "birth_date"],
                            "params": {"id_number": "subject.id_number"}}},
     "condition": {"fact": "person.birth_date", "op": "age_ge", "value": 80, "label": "年满80周岁"},
     "tiers": [{"name": "百岁老人", "amount": 500, "condition": {...}}, ...],      # first that holds
     "screen": {"register": {"fact": "register.birth_date", "op": "age_ge", "value": 80}}
             | {"licence": "CJRZ"},                                               # who to ask about
     "ends_on": {"person.deceased": "享受人已去世"},                               # exchange events
     "recheck_on": ["person.moved", "licence.revoked"],
     "decide_on": {"licence.issued": {"type_code": "CJRZ"}, "person.born": {}}}   # a new fact: decide at once

Instant approval (秒批) of an item::

    {"sample_rate": 0.1,
     "sources": {...as above; params may also name "form.<key>"...},
     "rules": [{"name": "年龄未满70周岁", "condition": {...}}, ...]}

Facts are ``<source>.<field>``; ``form.<key>`` and ``answers.<key>`` are the application's own.
"""

from smartgov.core.errors import InvalidInput
from smartgov.onestop.catalogue import BASIC_CODE

from . import rules

REGISTER_FACTS = {"register.birth_date", "register.region_code", "register.sex"}
SUBJECT_KEYS = {"subject.id_number"}


def _need(cond: bool, message: str, path: str) -> None:
    if not cond:
        raise InvalidInput(message, code="invalid_rule", detail={"path": path})


def _sources(defn: dict, *, form_keys: set[str] | None) -> set[str]:
    """Check ``sources`` and return the facts they make available."""
    sources = defn.get("sources", {})
    _need(isinstance(sources, dict), "sources 应为对象", "sources")
    facts = set()
    for name, src in sources.items():
        path = f"sources.{name}"
        _need(name.isidentifier() and name not in ("form", "answers", "subject", "register"),
              "数据来源名称不正确或与保留名称冲突", path)
        _need(isinstance(src, dict) and isinstance(src.get("resource"), str) and src["resource"],
              "请填写数据来源的资源代码", path)
        fields = src.get("fields")
        _need(isinstance(fields, list) and fields and all(isinstance(f, str) for f in fields),
              "请列出所需的信息项", f"{path}.fields")
        params = src.get("params", {})
        _need(isinstance(params, dict) and params, "请填写查询参数", f"{path}.params")
        for key, value in params.items():
            _need(isinstance(value, str), "查询参数应为文本", f"{path}.params.{key}")
            if value.startswith("form."):
                _need(form_keys is None or value[5:] in form_keys, f"表单中没有字段 {value[5:]}", f"{path}.params.{key}")
            elif value.startswith("subject."):
                _need(value in SUBJECT_KEYS, f"未知的对象属性 {value}", f"{path}.params.{key}")
        facts |= {f"{name}.{f}" for f in fields}
    return facts


def check_entitlement(defn: dict) -> dict:
    _need(isinstance(defn, dict), "规则应为对象", "")
    _need(isinstance(defn.get("benefit"), str) and defn["benefit"].strip(), "请填写待遇名称", "benefit")
    _need(isinstance(defn.get("item"), str) and BASIC_CODE.match(defn["item"]) is not None,
          "请填写本部门一网通办事项的基本编码（每份待遇都是该事项的一个办件）", "item")
    facts = _sources(defn, form_keys=set())
    rules.check(defn.get("condition"), facts=facts, path="condition")
    for i, tier in enumerate(defn.get("tiers", [])):
        _need(isinstance(tier, dict) and isinstance(tier.get("name"), str), "档次须有名称", f"tiers[{i}]")
        _need(isinstance(tier.get("amount"), int | float), "档次须有金额", f"tiers[{i}].amount")
        rules.check(tier.get("condition"), facts=facts, path=f"tiers[{i}].condition")
    _need(isinstance(defn.get("amount", 0), int | float), "金额应为数字", "amount")
    days = defn.get("recheck_days", 30)
    _need(isinstance(days, int) and 1 <= days <= 366, "复核周期应为1至366天", "recheck_days")
    screen = defn.get("screen")
    _need(isinstance(screen, dict) and len(screen) == 1 and ("register" in screen or "licence" in screen),
          "screen 应为 register（人口库条件）或 licence（证照类型）", "screen")
    if "register" in screen:
        rules.check(screen["register"], facts=REGISTER_FACTS, path="screen.register")
    else:
        _need(isinstance(screen["licence"], str) and screen["licence"], "请填写证照类型代码", "screen.licence")
    _need(isinstance(defn.get("ends_on", {}), dict), "ends_on 应为 {事件类型: 终止原因}", "ends_on")
    _need(isinstance(defn.get("recheck_on", []), list), "recheck_on 应为事件类型列表", "recheck_on")
    decide_on = defn.get("decide_on", {})
    _need(isinstance(decide_on, dict) and all(isinstance(k, str) and k and isinstance(v, dict)
                                              for k, v in decide_on.items()),
          "decide_on 应为 {事件类型: {事件数据须等于的值}}", "decide_on")
    return defn


def check_instant(defn: dict, *, form_keys: set[str], answer_keys: set[str]) -> dict:
    _need(isinstance(defn, dict), "规则应为对象", "")
    rate = defn.get("sample_rate", 0.1)
    _need(isinstance(rate, int | float) and 0 <= rate <= 1, "抽查比例应在0到1之间", "sample_rate")
    facts = _sources(defn, form_keys=form_keys) | {f"form.{k}" for k in form_keys} | {f"answers.{k}" for k in answer_keys}
    items = defn.get("rules")
    _need(isinstance(items, list) and items, "请至少写一条规则", "rules")
    for i, rule in enumerate(items):
        _need(isinstance(rule, dict) and isinstance(rule.get("name"), str) and rule["name"].strip(),
              "每条规则须有名称", f"rules[{i}].name")
        rules.check(rule.get("condition"), facts=facts, path=f"rules[{i}].condition")
    return defn
