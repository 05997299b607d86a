"""EPCIS 2.0 REST binding paging (openapi.yaml ``PerPage``, ``NextPageToken``, ``Link``,
``GS1-Next-Page-Token-Expires``, ``/nextPageToken/{token}``): the next page is an absolute URL in a
``Link`` header with ``rel="next"``, absent on the last page; tokens are opaque, bound to their query,
cannot be edited and expire; ``eventCountLimit`` counts across pages."""

import datetime

import pytest
from django.test import Client

from smartgov.trace import selectors
from smartgov.trace.models import Event

from .test_api import _capture_examples, key  # noqa: F401 (fixture)


def _walk(client, key, url):  # noqa: F811
    pages = []
    while url:
        resp = client.get(url, HTTP_X_TRACE_KEY=key)
        assert resp.status_code == 200, resp.content
        pages.append((resp, resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]))
        link = resp.get("Link")
        if link is None:
            assert "GS1-Next-Page-Token-Expires" not in resp
            break
        assert link.startswith("<http://testserver/api/trace/epcis/") and link.endswith('>; rel="next"')
        url = link[1:link.index(">")].removeprefix("http://testserver")
    return pages


def test_link_header_is_absolute_and_the_token_expires_in_a_day(key):  # noqa: F811
    client = _capture_examples(key)
    resp = client.get("/api/trace/epcis/events?perPage=3&EQ_action=OBSERVE", HTTP_X_TRACE_KEY=key)
    assert 'rel="next"' in resp["Link"] and "EQ_action=OBSERVE" in resp["Link"] and "perPage=3" in resp["Link"]
    expires = datetime.datetime.fromisoformat(resp["GS1-Next-Page-Token-Expires"])
    left = expires - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(hours=23) < left <= datetime.timedelta(hours=24)
    pages = _walk(client, key, "/api/trace/epcis/events?perPage=3&EQ_action=OBSERVE")
    ids = [e["eventID"] for _, events in pages for e in events]
    assert len(ids) == len(set(ids)) == Event.objects.filter(action="OBSERVE").count()
    assert all(len(events) == 3 for _, events in pages[:-1])


def test_event_count_limit_counts_across_pages(key):  # noqa: F811
    client = _capture_examples(key)
    pages = _walk(client, key, "/api/trace/epcis/events?eventCountLimit=5&perPage=2")
    assert [len(events) for _, events in pages] == [2, 2, 1]
    ordered = _walk(client, key, "/api/trace/epcis/events?orderBy=eventTime&eventCountLimit=4&perPage=2")
    assert [len(events) for _, events in ordered] == [2, 2]  # exactly at the limit: no next page


def test_per_page_above_the_global_limit_gets_the_limit(key, monkeypatch):  # noqa: F811
    client = _capture_examples(key)
    monkeypatch.setattr(selectors, "MAX_PER_PAGE", 4)  # the binding: a global limit the client cannot override
    pages = _walk(client, key, "/api/trace/epcis/events?perPage=5000")
    assert len(pages[0][1]) == 4 and len(pages) > 1


def test_tokens_are_bound_to_their_query_unforgeable_and_expire(key, monkeypatch):  # noqa: F811
    client = _capture_examples(key)
    first = client.get("/api/trace/epcis/events?perPage=2&EQ_action=ADD", HTTP_X_TRACE_KEY=key)
    token = first["Link"].split("nextPageToken=")[1].split(">")[0].split("&")[0]

    def status(qs):
        resp = client.get(f"/api/trace/epcis/events?{qs}", HTTP_X_TRACE_KEY=key)
        if resp.status_code == 400:
            assert resp.json()["type"] == "epcisException:QueryParameterException"
        return resp.status_code

    assert status(f"perPage=2&EQ_action=ADD&nextPageToken={token}") == 200
    assert status(f"perPage=5&EQ_action=ADD&nextPageToken={token}") == 200  # page size may change
    assert status(f"perPage=2&EQ_action=OBSERVE&nextPageToken={token}") == 400  # another query
    assert status(f"perPage=2&nextPageToken={token}") == 400
    assert status(f"perPage=2&EQ_action=ADD&nextPageToken={token[:-2]}xx") == 400  # edited
    # the resource lists bind theirs to the resource
    epcs = client.get("/api/trace/epcis/epcs?perPage=2", HTTP_X_TRACE_KEY=key)
    list_token = epcs["Link"].split("nextPageToken=")[1].split(">")[0]
    assert client.get(f"/api/trace/epcis/epcs?perPage=2&nextPageToken={list_token}",
                      HTTP_X_TRACE_KEY=key).status_code == 200
    assert client.get(f"/api/trace/epcis/bizSteps?perPage=2&nextPageToken={list_token}",
                      HTTP_X_TRACE_KEY=key).status_code == 400
    monkeypatch.setattr(selectors, "TOKEN_SECONDS", -1)  # expired
    assert status(f"perPage=2&EQ_action=ADD&nextPageToken={token}") == 400


@pytest.mark.django_db
def test_a_released_token_is_refused_afterwards_and_the_release_is_audited(key):  # noqa: F811
    from smartgov.audit.models import AuditEntry as Entry
    from smartgov.trace.models import ReleasedPageToken

    client = _capture_examples(key)
    first = client.get("/api/trace/epcis/events?perPage=2", HTTP_X_TRACE_KEY=key)
    token = first["Link"].split("nextPageToken=")[1].split(">")[0].split("&")[0]
    assert client.get(f"/api/trace/epcis/events?perPage=2&nextPageToken={token}",
                      HTTP_X_TRACE_KEY=key).status_code == 200
    entries = Entry.objects.count()
    resp = client.delete(f"/api/trace/epcis/nextPageToken/{token}", HTTP_X_TRACE_KEY=key)
    assert resp.status_code == 204, resp.content
    assert ReleasedPageToken.objects.count() == 1
    assert Entry.objects.filter(action="trace.page_token.release").count() == 1
    assert Entry.objects.count() == entries + 1
    after = client.get(f"/api/trace/epcis/events?perPage=2&nextPageToken={token}", HTTP_X_TRACE_KEY=key)
    assert after.status_code == 400 and after.json()["type"] == "epcisException:QueryParameterException"
    # releasing again, or a token that was never ours, is already done: 204, nothing written
    for again in (token, "abc", token[:-2] + "xx"):
        assert client.delete(f"/api/trace/epcis/nextPageToken/{again}", HTTP_X_TRACE_KEY=key).status_code == 204
    assert ReleasedPageToken.objects.count() == 1 and Entry.objects.count() == entries + 1
    # a fresh token of the same query still works
    fresh = client.get("/api/trace/epcis/events?perPage=3", HTTP_X_TRACE_KEY=key)
    other = fresh["Link"].split("nextPageToken=")[1].split(">")[0].split("&")[0]
    assert client.get(f"/api/trace/epcis/events?perPage=3&nextPageToken={other}",
                      HTTP_X_TRACE_KEY=key).status_code == 200


@pytest.mark.django_db
def test_releasing_needs_a_caller(key):  # noqa: F811
    assert Client().delete("/api/trace/epcis/nextPageToken/abc").status_code == 401
