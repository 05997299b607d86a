"""What a page needs from the platform itself: API docs that work offline, and a favicon."""

from pathlib import Path

from django.test import Client

STATIC = Path(__file__).resolve().parents[2] / "src" / "smartgov" / "static"


def test_api_docs_load_swagger_ui_from_our_own_static_files_not_a_cdn():
    html = Client().get("/api/docs").content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/vendor/swagger-ui/swagger-ui.css" in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert 'id="swagger-settings"' in html and "/api/openapi.json" in html
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
        assert (STATIC / "vendor" / "swagger-ui" / name).stat().st_size > 0


def test_favicon_ico_answers_on_every_site():
    resp = Client().get("/favicon.ico")
    assert resp.status_code == 301 and resp["Location"].endswith("/static/img/favicon.svg")
    assert (STATIC / "img" / "favicon.svg").read_text().startswith("<svg")
    assert 'rel="icon"' in Client().get("/").content.decode()
