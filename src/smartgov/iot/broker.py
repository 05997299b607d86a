"""Mosquitto's password and ACL files, written from the device table (``smartgov iot passwd``).

Every active device is a broker account: its code is the user name, its secret hash (Mosquitto's own
``$7$`` form) the password. Each device may publish to its own telemetry topic (one ``pattern`` line,
``%u`` = its user name). An app whose devices publish elsewhere — grain's depot gateways publish
``<prefix>/grain/<depot>/<warehouse>/scan`` — registers the topics of its devices with
``register_topics``; those devices get their own ``user`` section with exactly those topics. Ingest
workers read every topic they consume and publish nothing.
"""

from collections.abc import Callable, Iterable

from .readings import telemetry_topic

# app → (device's tags, prefix) → [(access, topic)] with access "read" | "write" | "readwrite"
TopicRule = Callable[[dict, str], list[tuple[str, str]]]
_TOPICS: dict[str, TopicRule] = {}
# topic filters (with the prefix) an ingest worker reads, by the app that registered them
_WORKER_READS: dict[str, Callable[[str], str]] = {"iot": lambda prefix: telemetry_topic(prefix, "+")}


def register_topics(app: str, rule: TopicRule, *, worker_reads: Callable[[str], str] | None = None) -> None:
    """Devices of ``app`` may use the topics ``rule(tags, prefix)`` names (in addition to their own
    telemetry topic); ``worker_reads(prefix)`` is the filter the app's ingest workers subscribe to."""
    _TOPICS[app] = rule
    if worker_reads is not None:
        _WORKER_READS[app] = worker_reads


def _safe(topic: str) -> str:
    """A topic written into the ACL file must be one line with no wildcard from the data (only the rule's own)."""
    if any(ch in topic for ch in "\n\r\0") or not topic.strip():
        raise ValueError(f"主题 {topic!r} 不能写入ACL文件")
    return topic


def password_lines(workers: Iterable[tuple[str, str]], accounts: Iterable[tuple[str, str]]) -> str:
    """``user:hash`` lines: the ingest workers', then every active device's."""
    return "".join(f"{user}:{digest}\n" for user, digest in [*workers, *accounts])


def acl_text(*, prefix: str, workers: Iterable[str], devices: Iterable[tuple[str, str, dict]]) -> str:
    """The ACL file: a section per ingest worker (read every consumed topic), a section per device of an
    app with its own topics (``devices`` = (code, app, tags) of the active devices), and the telemetry pattern."""
    out = []
    reads = [fn(prefix) for fn in _WORKER_READS.values()]
    for user in workers:
        out.append(f"user {user}\n" + "".join(f"topic read {_safe(t)}\n" for t in reads) + "\n")
    for code, app, tags in devices:
        rule = _TOPICS.get(app)
        if rule is None:
            continue
        out.append(f"user {code}\n" + "".join(f"topic {access} {_safe(t)}\n" for access, t in rule(tags, prefix))
                   + "\n")
    # each device may publish its own telemetry (%u = its user name, the device code)
    out.append(f"pattern write {telemetry_topic(prefix, '%u')}\n")
    return "".join(out)
