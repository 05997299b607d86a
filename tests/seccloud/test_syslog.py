from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.seccloud.models import Event, Quarantine, Source
from smartgov.seccloud.syslog import SyslogError, parse, split_tcp_stream

from .factories import send, syslog_source

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_rfc5424_with_structured_data_and_escapes():
    p = parse('<165>1 2003-10-11T22:14:15.003-07:00 host.example app 42 ID47 '
              '[ex@32473 iut="3" src="App\\"li\\]c"][x@1 user="alice"] hello', now=NOW)
    assert (p["facility"], p["severity"]) == (20, 5)
    assert p["at"] == datetime(2003, 10, 12, 5, 14, 15, 3000, tzinfo=UTC)
    assert p["sd"] == {"ex@32473": {"iut": "3", "src": 'App"li]c'}, "x@1": {"user": "alice"}}
    assert (p["host"], p["app"], p["procid"], p["msgid"], p["message"]) == ("host.example", "app", "42", "ID47", "hello")


def test_rfc5424_nil_values_and_bom():
    p = parse("<13>1 - - - - - - \ufeffmsg", now=NOW)
    assert p["at"] == NOW and p["host"] == "" and p["message"] == "msg"


def test_rfc3164_with_tag_and_pid_and_year_inference():
    p = parse("<38>Dec  4 11:00:01 web1 sshd[123]: Failed password for root from 10.1.2.3 port 22 ssh2", now=NOW)
    assert p["at"] == datetime(2026, 12, 4, 11, 0, 1, tzinfo=UTC)
    assert (p["host"], p["app"], p["procid"]) == ("web1", "sshd", "123")
    # a December message read in January belongs to last year
    p = parse("<38>Dec 31 23:59:59 h app: x", now=datetime(2027, 1, 1, 0, 0, 5, tzinfo=UTC))
    assert p["at"].year == 2026


@pytest.mark.parametrize(("line", "reason"), [
    ("no pri at all", "no_pri"),
    ("<192>1 2003-10-11T22:14:15Z h a - - -", "bad_pri"),
    ("<013>1 2003-10-11T22:14:15Z h a - - -", "bad_pri"),
    ("<13>2 2003-10-11T22:14:15Z h a - - -", "bad_header"),
    ("<13>1 2003-10-11T22:14:15Z h", "bad_header"),
    ("<13>1 2003-13-11T22:14:15Z h a - - -", "bad_timestamp"),
    ("<13>1 2003-10-11 22:14:15 h a - - -", "bad_timestamp"),
    ("<13>1 2003-10-11T22:14:15Z h a - - [unterminated", "bad_structured_data"),
    ("<13>1 2003-10-11T22:14:15Z h a - - x", "bad_structured_data"),
    ("<13>Foo 11 22:14:15 h a: x", "bad_timestamp"),
    ("<13>Feb 30 22:14:15 h a: x", "bad_timestamp"),
    ("<13>" + "x" * 9000, "too_long"),
])
def test_malformed_lines_have_a_reason(line, reason):
    with pytest.raises(SyslogError) as exc:
        parse(line, now=NOW)
    assert exc.value.reason == reason


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_fails_other_than_with_a_reason(text):
    try:
        parse(text, now=NOW)
    except SyslogError as exc:
        assert exc.reason


def test_tcp_framing_octet_counting_and_newlines():
    frames, tail = split_tcp_stream(b"5 <1>ab<13>x\n<13>y\n<1")
    assert frames == [b"<1>ab", b"<13>x", b"<13>y"] and tail == b"<1"
    frames, tail = split_tcp_stream(b"20 <13>short")
    assert frames == [] and tail == b"20 <13>short"


@pytest.mark.django_db
def test_bad_lines_are_quarantined_and_counted_never_dropped():
    source = syslog_source("10.9.9.9")
    out = send(source, ["<13>1 2026-12-04T10:00:00Z h app - - - ok", "garbage", "<999>x", ""])
    assert out == {"received": 4, "stored": 1, "quarantined": 2, "alerts": 0}
    assert sorted(Quarantine.objects.values_list("reason", flat=True)) == ["bad_pri", "no_pri"]
    assert Quarantine.objects.get(reason="no_pri").raw == "garbage"
    source = Source.objects.get(pk=source.pk)
    assert (source.received, source.stored, source.quarantined) == (4, 1, 2)
    assert Event.objects.count() == 1


@pytest.mark.django_db
def test_decoders_fill_the_normalised_schema():
    source = syslog_source("10.9.9.8")
    send(source, ["<38>Dec  4 11:00:01 web1 sshd[1]: Failed password for invalid user bob from 10.1.2.3 port 22 ssh2",
                  '<14>Dec  4 11:00:02 web1 nginx: 1.2.3.4 - - [04/Dec/2026:11:00:02 +0800] "GET /.env HTTP/1.1" 404 12 "-" "sqlmap/1.7"',
                  '<13>1 2026-12-04T10:00:00Z h app - - [sg@1 user="carol" src_ip="10.0.0.7" action="x.y" outcome="failure" k="v"] m'])
    ssh, web, sd = Event.objects.order_by("seq")
    assert (ssh.user, ssh.src_ip, ssh.action, ssh.outcome) == ("bob", "10.1.2.3", "ssh.login", "failure")
    assert (web.src_ip, web.action, web.extra["path"], web.extra["status"], web.extra["user_agent"]) == \
        ("1.2.3.4", "http.request", "/.env", 404, "sqlmap/1.7")
    assert (sd.user, sd.src_ip, sd.action, sd.outcome, sd.extra["k"]) == ("carol", "10.0.0.7", "x.y", "failure", "v")
