"""Structured logs: one JSON object per line, each carrying the request id that caused it.

The request id is taken from ``X-Request-ID`` (set by HAProxy in a cluster, or by a client) when it is
well formed, otherwise made here; it is echoed in the response, written into every audit entry, and
carried into background jobs queued during the request (``JobOrigin``), so
``grep <request id>`` over the app servers' and workers' logs follows one request through the app
server, the worker and the job. ``SMARTGOV_LOG_FORMAT=text`` gives plain lines for a developer's console.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

import orjson

request_id: ContextVar[str] = ContextVar("smartgov_request_id", default="")
job_id: ContextVar[str] = ContextVar("smartgov_job_id", default="")

_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,32}$")  # what we accept from a proxy or client
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id", "job_id"}


def incoming_request_id(header: str | None) -> str:
    """The id a request carries: the caller's ``X-Request-ID`` if well formed (anything else would let a
    client forge log lines or overflow the audit column), otherwise a new one."""
    return header if header and _WELL_FORMED.match(header) else uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``job_id`` to every record (for the text format too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.job_id = job_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request and job ids, the
    process, any ``extra=`` fields, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id.get(),
            "job_id": getattr(record, "job_id", "") or job_id.get(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def logging_config(*, fmt: str, level: str) -> dict:
    """The LOGGING dict settings.py uses."""
    formatter = {"()": JsonFormatter} if fmt == "json" else {
        "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(job_id)s] %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"main": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}, "faiss": {"level": "WARNING"},
                    "django.tasks": {"level": "WARNING"}},
    }


# ------------------------------------------------------------------ the request id into background jobs
# (models are imported inside the handlers: settings.py imports this module before apps are loaded)


def remember_origin(sender, task_result, **kwargs) -> None:
    """``task_enqueued``: a job queued while serving a request (or by a job that was) keeps its id."""
    from .models import JobOrigin  # noqa: PLC0415 — deferred: core.models loads models, importable only once the app registry is ready

    rid = request_id.get()
    if rid:
        JobOrigin.objects.update_or_create(task_id=str(task_result.id), defaults={"request_id": rid})


def enter_job(sender, task_result, **kwargs) -> None:
    """``task_started`` (in the worker): the job's lines carry its id and its origin request's id."""
    from .models import JobOrigin  # noqa: PLC0415 — deferred: core.models loads models, importable only once the app registry is ready

    job_id.set(str(task_result.id))
    origin = JobOrigin.objects.filter(task_id=str(task_result.id)).values_list("request_id", flat=True).first()
    request_id.set(origin or "")


def leave_job(sender, task_result, **kwargs) -> None:
    """``task_finished``: forget the origin and clear the ids before the worker's next job."""
    from .models import JobOrigin  # noqa: PLC0415 — deferred: core.models loads models, importable only once the app registry is ready

    JobOrigin.objects.filter(task_id=str(task_result.id)).delete()
    job_id.set("")
    request_id.set("")
