"""English mode is complete: every Chinese string a template or the code marks for translation, and
every Chinese label of a code shown to people (the TextChoices of the models, the core labels), has an
English translation in some catalogue. The test lists what is missing."""

import re
from pathlib import Path

import pytest
from django.utils import translation

SRC = Path(__file__).resolve().parents[2] / "src" / "smartgov"
CJK = re.compile(r"[\u4e00-\u9fff]")
TEMPLATE = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")
BLOCK = re.compile(r"{%\s*blocktranslate(?:\s[^%]*)?%}(.*?)(?:{%\s*plural\s*%}.*?)?{%\s*endblocktranslate\s*%}", re.S)
PYTHON = re.compile(r"""\b(?:_|gettext|gettext_lazy|gettext_noop|pgettext)\(\s*(["'])((?:(?!\1).)+)\1\s*\)""")


def _block_id(body: str) -> str:
    # as Django catalogues it: a literal % doubled, each {{ var }} a %(var)s placeholder
    return re.sub(r"{{\s*(\w+)\s*}}", r"%(\1)s", body.replace("%", "%%"))


def marked_strings() -> dict[str, str]:
    found = {}
    for path in SRC.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for _q, msg in TEMPLATE.findall(text):
            found.setdefault(msg.replace("%", "%%"), str(path.relative_to(SRC)))  # Django's msgid for it
        for body in BLOCK.findall(text):
            found.setdefault(_block_id(body), str(path.relative_to(SRC)))
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for _q, msg in PYTHON.findall(path.read_text(encoding="utf-8")):
            found.setdefault(msg, str(path.relative_to(SRC)))
    return {m: where for m, where in found.items() if CJK.search(m)}


def code_labels() -> dict[str, str]:
    """Labels of every TextChoices/IntegerChoices in the models: what get_FOO_display shows."""
    from django.apps import apps

    out = {}
    for model in apps.get_models():
        if not model.__module__.startswith("smartgov"):
            continue
        for field in model._meta.fields:
            for _value, label in field.choices or []:
                if isinstance(label, str) and CJK.search(label):
                    out.setdefault(label, f"{model._meta.label}.{field.name}")
    return out


def _missing(strings: dict[str, str]) -> list[tuple[str, str]]:
    with translation.override("en"):
        return sorted((where, m) for m, where in strings.items() if translation.gettext(m) == m)


@pytest.mark.parametrize("kind", ["templates_and_code", "code_labels"])
def test_every_chinese_string_has_an_english_translation(kind):
    strings = marked_strings() if kind == "templates_and_code" else code_labels()
    assert len(strings) > 50
    missing = _missing(strings)
    assert not missing, f"{len(missing)} strings without English: " + "; ".join(f"{w}: {m}" for w, m in missing[:60])
