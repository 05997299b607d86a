"""Sigma rules evaluated in Python: pySigma parses each rule (YAML → SigmaRule / SigmaCorrelationRule,
condition → tree of AND/OR/NOT over field = value leaves with modifiers already applied), and this
module compiles that tree into closures over a normalised event dict. No Sigma parsing here.

Semantics (Sigma specification v2): strings match case-insensitively with ``*``/``?`` wildcards (the
``contains``/``startswith``/``endswith`` modifiers arrive as wildcards); ``re`` is a case-sensitive
regular-expression search unless the rule sets the ``i`` flag; ``cidr`` tests IP membership; ``all``
arrives as AND; keywords search the message text; a list of values is OR.
"""

import ipaddress
import re
from dataclasses import dataclass, field

import yaml
from sigma.collection import SigmaCollection
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.correlations import SigmaCorrelationConditionOperator, SigmaCorrelationRule, SigmaCorrelationType
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

LEVELS = ["informational", "low", "medium", "high", "critical"]


class RuleError(ValueError):
    """A rule pySigma refused or this engine cannot evaluate; ``str()`` says why."""


@dataclass
class Compiled:
    rule_id: str
    title: str
    level: str
    tags: list[str]
    kind: str  # detection / correlation
    match: object = None  # detection: callable(event) -> bool
    # correlation
    refs: list[str] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    timespan_s: int = 0
    op: str = "gte"
    count: int = 0
    generate: bool = False
    index_key: tuple | None = None  # (field, frozenset of lower-cased values) every match must have


def load_rules(text: str) -> list:
    """Parse YAML (one or more documents) with pySigma; raises RuleError with pySigma's reason.

    Every document must be a mapping before pySigma sees it: pySigma assumes one and fails with an
    AttributeError/TypeError on a bare scalar or list, which would surface as a server error."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as exc:
        raise RuleError(f"invalid YAML: {exc}") from exc
    if not documents:
        raise RuleError("no rule in the document")
    if not all(isinstance(d, dict) for d in documents):
        raise RuleError("every YAML document must be a mapping (a Sigma rule)")
    try:
        collection = SigmaCollection.from_yaml(text, collect_errors=True, resolve_references=False)
        errors = list(collection.errors)
        for r in collection.rules:
            errors.extend(getattr(r, "errors", []) or [])
        if errors:
            raise RuleError(str(errors[0]))
        # references are kept as written (rule id or name) and matched against stored rule ids, so a
        # correlation can be uploaded on its own after the rules it counts
        rules = list(collection.rules)
    except SigmaError as exc:
        raise RuleError(str(exc)) from exc
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # pySigma does not check the type of every field (e.g. a list where a string belongs)
        raise RuleError(f"malformed rule: {exc}") from exc
    if not rules:
        raise RuleError("no rule in the document")
    return rules


def compile_rule(rule) -> Compiled:
    level = rule.level.name.lower() if rule.level else "medium"
    tags = [f"{t.namespace}.{t.name}" for t in rule.tags]
    rule_id = str(rule.id or rule.name or rule.title)
    if isinstance(rule, SigmaCorrelationRule):
        if rule.type != SigmaCorrelationType.EVENT_COUNT:
            raise RuleError(f"correlation type {rule.type.name.lower()} is not supported (event_count is)")
        ops = {SigmaCorrelationConditionOperator.GTE: "gte", SigmaCorrelationConditionOperator.GT: "gt",
               SigmaCorrelationConditionOperator.EQ: "eq"}
        cond = rule.condition
        if cond.op not in ops:
            raise RuleError("event_count needs gte, gt or eq")
        refs = [str(ref.reference) for ref in rule.rules]
        return Compiled(rule_id, rule.title, level, tags, "correlation", refs=refs,
                        group_by=list(rule.group_by or []), timespan_s=int(rule.timespan.seconds),
                        op=ops[cond.op], count=int(cond.count), generate=bool(rule.generate))
    if not isinstance(rule, SigmaRule):
        raise RuleError(f"unsupported rule type {type(rule).__name__}")
    try:
        trees = [c.parse() for c in rule.detection.parsed_condition]
    except SigmaError as exc:
        raise RuleError(str(exc)) from exc
    matchers = [_compile(t) for t in trees]
    match = matchers[0] if len(matchers) == 1 else (lambda ev, ms=matchers: any(m(ev) for m in ms))
    index_key = _index_key(trees[0]) if len(trees) == 1 else None
    return Compiled(rule_id, rule.title, level, tags, "detection", match=match, index_key=index_key)


# --- condition tree → closures ----------------------------------------------------------------------

def _compile(node):
    if isinstance(node, ConditionAND):
        parts = [_compile(a) for a in node.args]
        return lambda ev: all(p(ev) for p in parts)
    if isinstance(node, ConditionOR):
        parts = [_compile(a) for a in node.args]
        return lambda ev: any(p(ev) for p in parts)
    if isinstance(node, ConditionNOT):
        inner = _compile(node.args[0])
        return lambda ev: not inner(ev)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _field_matcher(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        value = node.value
        if isinstance(value, SigmaString) and not value.contains_special():
            # a keyword is a full-text term: found anywhere in the message (Sigma spec: keyword search)
            value = SpecialChars.WILDCARD_MULTI + value + SpecialChars.WILDCARD_MULTI
        test = _value_test(value)
        return lambda ev: test(ev.get("message", "")) or test(ev.get("raw", ""))
    raise RuleError(f"unsupported condition element {type(node).__name__}")


def _field_matcher(name: str, value):
    if isinstance(value, SigmaNull):
        return lambda ev: ev.get(name) in (None, "")
    if isinstance(value, SigmaExists):
        want = bool(value.exists)
        return lambda ev: (ev.get(name) not in (None, "")) == want
    test = _value_test(value)

    def match(ev):
        v = ev.get(name)
        if v is None:
            return False
        if isinstance(v, list):
            return any(test(x) for x in v)
        return test(v)
    return match


def _value_test(value):
    if isinstance(value, SigmaString):
        return _string_test(value)
    if isinstance(value, SigmaRegularExpression):
        flags = 0
        if SigmaRegularExpressionFlag.IGNORECASE in value.flags:
            flags |= re.IGNORECASE
        if SigmaRegularExpressionFlag.MULTILINE in value.flags:
            flags |= re.MULTILINE
        if SigmaRegularExpressionFlag.DOTALL in value.flags:
            flags |= re.DOTALL
        try:
            rx = re.compile(value.regexp.to_plain() if hasattr(value.regexp, "to_plain") else str(value.regexp),
                            flags)
        except re.error as exc:
            raise RuleError(f"bad regular expression: {exc}") from exc
        return lambda v: rx.search(v if isinstance(v, str) else str(v)) is not None
    if isinstance(value, SigmaCIDRExpression):
        net = value.network
        return lambda v: _in_network(v, net)
    if isinstance(value, SigmaBool):
        want = bool(value.boolean)
        return lambda v: v is want or str(v).lower() == str(want).lower()
    if isinstance(value, SigmaNumber):
        num = value.number
        return lambda v: _as_number(v) == num
    if isinstance(value, SigmaCompareExpression):
        num = value.number.number
        op = value.op.name  # LT LTE GT GTE
        cmp = {"LT": lambda a: a < num, "LTE": lambda a: a <= num, "GT": lambda a: a > num,
               "GTE": lambda a: a >= num}[op]
        return lambda v: (n := _as_number(v)) is not None and cmp(n)
    raise RuleError(f"unsupported value type {type(value).__name__}")


def _string_test(s: SigmaString):
    parts = list(s.s)
    plain = [p for p in parts if isinstance(p, str)]
    specials = [p for p in parts if not isinstance(p, str)]
    if not specials:
        want = "".join(plain).lower()
        return lambda v: (v.lower() if isinstance(v, str) else str(v).lower()) == want
    if all(p is SpecialChars.WILDCARD_MULTI for p in specials) and len(plain) == 1:
        text = plain[0].lower()
        if len(parts) == 3 and parts[0] is SpecialChars.WILDCARD_MULTI and parts[2] is SpecialChars.WILDCARD_MULTI:
            return lambda v: text in (v.lower() if isinstance(v, str) else str(v).lower())
        if len(parts) == 2 and parts[1] is SpecialChars.WILDCARD_MULTI:
            return lambda v: (v.lower() if isinstance(v, str) else str(v).lower()).startswith(text)
        if len(parts) == 2 and parts[0] is SpecialChars.WILDCARD_MULTI:
            return lambda v: (v.lower() if isinstance(v, str) else str(v).lower()).endswith(text)
    pattern = "".join(re.escape(p) if isinstance(p, str) else (".*" if p is SpecialChars.WILDCARD_MULTI else ".")
                      for p in parts)
    rx = re.compile(pattern, re.IGNORECASE | re.DOTALL)
    return lambda v: rx.fullmatch(v if isinstance(v, str) else str(v)) is not None


def _in_network(v, net) -> bool:
    try:
        return ipaddress.ip_address(v) in net
    except ValueError:
        return False


def _as_number(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return v
    try:
        return int(v)
    except (TypeError, ValueError):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None


def _index_key(tree):
    """What every match must satisfy, so the pack tries the rule only on events that have it:
    ``("eq", field, values)`` — the field equals one of the values — or ``("has", field, needles)`` —
    the lower-cased field contains one of the needles (from contains/startswith/endswith/plain values).
    Needles are preferred: they are rarer than the equalities rules share (``action: http.request``)."""
    best_eq, best_has = _index_candidates(tree)
    if best_has and min(map(len, best_has[2])) >= 3:
        return best_has
    return best_eq or best_has


def _index_candidates(tree):
    """(equality key, needle key) every match of ``tree`` satisfies, either None. An OR of branches
    (``selection and night or selection and late``) has a key when every branch has one on the
    same field: the union of their values or needles."""
    if isinstance(tree, ConditionOR):
        branches = [_index_candidates(a) for a in tree.args]
        # a branch indexed by equality also contains its value: it can join a union of needles
        has = [b[1] or (("has", b[0][1], b[0][2]) if b[0] else None) for b in branches]
        return _union([b[0] for b in branches]), _union(has)
    best_eq = None
    best_has = None
    for leaf in _and_leaves(tree):
        if isinstance(leaf, ConditionOR):
            eq, has = _index_candidates(leaf)
            if eq and best_eq is None:
                best_eq = eq
            if has and (best_has is None or min(map(len, has[2])) > min(map(len, best_has[2]))):
                best_has = has
            continue
        values = _plain_values(leaf)
        if values:
            if best_eq is None:
                best_eq = ("eq", *values)
            continue  # an equality is indexed exactly; needles come from wildcard values and keywords
        needles = _needles(leaf)
        if needles and (best_has is None or min(map(len, needles[1])) > min(map(len, best_has[2]))):
            best_has = ("has", *needles)
    return best_eq, best_has


def _union(keys):
    if keys and all(keys) and len({(k[0], k[1]) for k in keys}) == 1:
        return keys[0][0], keys[0][1], frozenset().union(*(k[2] for k in keys))
    return None


def _and_leaves(tree) -> list:
    if isinstance(tree, ConditionAND):
        return [leaf for arg in tree.args for leaf in _and_leaves(arg)]
    return [tree]


def _needles(node):
    """(field, needles) when the leaf (or an OR of leaves on one field) can only match values that
    contain one of the needles."""
    if isinstance(node, ConditionFieldEqualsValueExpression) and isinstance(node.value, SigmaString):
        parts = [p for p in node.value.s if isinstance(p, str)]
        if not parts:
            return None
        return node.field, frozenset({max(parts, key=len).lower()})
    if isinstance(node, ConditionValueExpression) and isinstance(node.value, SigmaString):
        parts = [p for p in node.value.s if isinstance(p, str)]
        return ("raw", frozenset({max(parts, key=len).lower()})) if parts else None
    if isinstance(node, ConditionOR):
        got = [_needles(a) for a in node.args]
        if got and all(got) and len({g[0] for g in got}) == 1:
            return got[0][0], frozenset().union(*(g[1] for g in got))
    return None


def _plain_values(node):
    if isinstance(node, ConditionFieldEqualsValueExpression) and isinstance(node.value, SigmaString) \
            and not node.value.contains_special():
        return node.field, frozenset({str(node.value).lower()})
    if isinstance(node, ConditionOR):
        got = [_plain_values(a) for a in node.args]
        if got and all(got) and len({g[0] for g in got}) == 1:
            return got[0][0], frozenset().union(*(g[1] for g in got))
    return None


# --- the pack: every enabled rule, indexed ----------------------------------------------------------

class RulePack:
    """Compiled enabled rules. ``evaluate(event)`` → list of (Compiled detection, alerts?: bool)."""

    def __init__(self, compiled: list[Compiled]):
        self.detections = [c for c in compiled if c.kind == "detection"]
        self.correlations = [c for c in compiled if c.kind == "correlation"]
        self.by_ref: dict[str, list[Compiled]] = {}
        for corr in self.correlations:
            for ref in corr.refs:
                self.by_ref.setdefault(ref, []).append(corr)
        silent = {ref for corr in self.correlations if not corr.generate for ref in corr.refs}
        self.alerting = {d.rule_id for d in self.detections if d.rule_id not in silent}
        self.indexed: dict[str, dict[str, list[Compiled]]] = {}
        self.needles: dict[str, list[tuple[str, list[Compiled]]]] = {}
        self.always: list[Compiled] = []
        needle_map: dict[str, dict[str, list[Compiled]]] = {}
        for d in self.detections:
            if d.index_key and d.index_key[0] == "eq":
                _, f, values = d.index_key
                for v in values:
                    self.indexed.setdefault(f, {}).setdefault(v, []).append(d)
            elif d.index_key:
                _, f, needles = d.index_key
                for n in needles:
                    needle_map.setdefault(f, {}).setdefault(n, []).append(d)
            else:
                self.always.append(d)
        # one regular expression per field finds whether any needle occurs (one C scan instead of a
        # Python loop over 32 path needles); only then are the needles tried one by one
        self.needles = {f: (re.compile("|".join(re.escape(n) for n in sorted(table, key=len, reverse=True))),
                            list(table.items())) for f, table in needle_map.items()}
        self.size = len(compiled)

    def matches(self, ev: dict) -> list[Compiled]:
        """Rules that match ``ev``; each rule is tried only if its index key allows (a rule is listed
        once however many of its needles occur)."""
        out = [d for d in self.always if d.match(ev)]
        for f, table in self.indexed.items():
            v = ev.get(f)
            if v is None:
                continue
            cands = table.get(v.lower() if isinstance(v, str) else str(v).lower())
            if cands:
                out.extend(d for d in cands if d.match(ev))
        for f, (any_needle, needles) in self.needles.items():
            v = ev.get(f)
            if v is None:
                continue
            low = v.lower() if isinstance(v, str) else str(v).lower()
            if any_needle.search(low) is None:
                continue
            tried = None
            for needle, rules in needles:
                if needle in low:
                    for d in rules:
                        if tried is None:
                            tried = set()
                        if id(d) not in tried:
                            tried.add(id(d))
                            if d.match(ev):
                                out.append(d)
        return out


def group_key(corr: Compiled, ev: dict) -> str:
    return "|".join(f"{f}={ev.get(f, '')}" for f in corr.group_by)


def threshold_met(corr: Compiled, n: int) -> bool:
    return n >= corr.count if corr.op == "gte" else n > corr.count if corr.op == "gt" else n == corr.count
