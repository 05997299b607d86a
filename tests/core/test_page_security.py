"""Pages carry a Content-Security-Policy without inline-script allowances and a Permissions-Policy; templates
put data for scripts through json_script and write no inline handlers (the patterns behind stored XSS)."""

import pathlib
import re

import pytest

import smartgov

TEMPLATES = sorted(pathlib.Path(smartgov.__file__).parent.rglob("templates/**/*.html"))


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/api/docs", "/admin/login/", "/no-such-page/"])
def test_every_page_has_a_csp_without_inline_scripts_and_a_permissions_policy(client, path):
    resp = client.get(path)
    policy = resp["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "camera=()" in resp["Permissions-Policy"] and "geolocation=()" in resp["Permissions-Policy"]
    nonce = m.group(1) if (m := re.search(r"'nonce-([^']+)'", script_src)) else "(none sent)"
    for tag in re.findall(r"<script\b[^>]*>", resp.content.decode()):
        assert "src=" in tag or "application/json" in tag or f'nonce="{nonce}"' in tag, tag


def test_templates_put_no_data_into_scripts_with_safe_and_have_no_inline_handlers():
    offences = []
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"<script\b[^>]*>(.*?)</script>", text, flags=re.S):
            if "|safe" in block or re.search(r"{{(?![^}]*\|escapejs)(?! csp_nonce )", block):
                offences.append(f"{path}: template data inside <script>")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "csp_nonce" not in tag:
                offences.append(f"{path}: inline <script> without the CSP nonce")
        if re.search(r"\son[a-z]+=\"", text) or "javascript:" in text:
            offences.append(f"{path}: inline event handler")
    assert not offences, offences
