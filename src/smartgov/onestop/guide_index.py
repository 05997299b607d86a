"""The smart guide's index over the live catalogue: built from the current item versions and the
bundles, rebuilt when the catalogue changes (its revision is the latest publish time)."""

import threading

from django.db.models import Max

from . import selectors
from .guide import GuideDoc, GuideIndex, bundle_doc
from .models import Bundle, ItemVersion, ServiceItem

_lock = threading.Lock()
_cache: dict = {"revision": None, "index": None}


def _revision():
    return (ItemVersion.objects.aggregate(m=Max("id"))["m"], Bundle.objects.aggregate(m=Max("updated_at"))["m"],
            ServiceItem.objects.filter(active=True).count())


def documents():
    docs = []
    for item in selectors.with_current_versions(ServiceItem.objects.filter(active=True).select_related("department")):
        content = selectors.current_version(item).parsed
        docs.append(GuideDoc(kind="item", key=item.implementation_code, name=item.name,
                             synonyms=tuple(content.synonyms), description=content.description,
                             department=item.department.name))
    for bundle in Bundle.objects.filter(active=True).prefetch_related("members__item"):
        docs.append(bundle_doc(bundle.code, bundle.name, bundle.synonyms, bundle.description,
                               [m.item.name for m in bundle.members.all()]))
    return docs


def index():
    revision = _revision()
    with _lock:
        if _cache["revision"] != revision or _cache["index"] is None:
            _cache["index"], _cache["revision"] = GuideIndex.build(documents()), revision
        return _cache["index"]


def search(text: str, k: int = 5) -> list[dict]:
    return [{"kind": doc.kind, "code": doc.key, "name": doc.name, "department": doc.department,
             "score": round(float(score), 4)} for doc, score in index().search(text, k=k)]


def answer(text: str, k: int = 5) -> dict:
    """The guide's answer for a page: the hits, the confidence, and whether it declines (nothing fits:
    the page points to the 12345 hotline or a window instead of guessing)."""
    results, confidence, declined = index().answer(text, k=k)
    hits = [] if declined else [{"kind": doc.kind, "code": doc.key, "name": doc.name, "department": doc.department,
                                 "score": round(float(score), 4)} for doc, score in results]
    return {"hits": hits, "confidence": confidence, "declined": declined}
