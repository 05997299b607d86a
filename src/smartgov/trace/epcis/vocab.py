"""CBV 2.0 standard vocabularies and their three spellings in JSON-LD: bare words (``shipping``), full
GS1 Web URIs (``https://ref.gs1.org/cbv/BizStep-shipping``) and CURIEs (``cbv:BizStep-shipping``), plus
the EPCIS 1.x URNs (``urn:epcglobal:cbv:bizstep:shipping``) that the event hash maps to the same term.
"""

import json
from functools import cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "epcis" / "JSON-Schema" / "schemas"
CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"

# Standard prefixes of the EPCIS 2.0 context (epcis-context.jsonld), always declared.
STANDARD_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": GS1_VOC,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}


def _enum(file: str, name: str) -> frozenset[str]:
    data = json.loads((SCHEMA_DIR / file).read_text())["definitions"][name]
    for branch in data.get("anyOf", [data]):
        if "enum" in branch:
            return frozenset(branch["enum"])
    return frozenset(data.get("enum", ()))


# field → (CBV term prefix, EPCIS 1.x URN prefix, the bare words the schema allows)
@cache
def vocabularies() -> dict[str, tuple[str, str, frozenset[str]]]:
    return {
        "bizStep": ("BizStep-", "urn:epcglobal:cbv:bizstep:", _enum("bizStep-JSON-Schema.json", "bizStep")),
        "disposition": ("Disp-", "urn:epcglobal:cbv:disp:", _enum("disposition-JSON-Schema.json", "disposition")),
        "bizTransactionType": ("BTT-", "urn:epcglobal:cbv:btt:",
                               _enum("bizTransaction-type-JSON-Schema.json", "bizTransaction-type")),
        "sourceDestType": ("SDT-", "urn:epcglobal:cbv:sdt:",
                           _enum("source-dest-type-JSON-Schema.json", "source-dest-type")),
        "errorReason": ("ER-", "urn:epcglobal:cbv:er:", _enum("error-reason-JSON-Schema.json", "error-reason")),
    }


class VocabularyError(ValueError):
    pass


def context_prefixes(context) -> dict[str, str]:
    """Prefix → namespace declared by a JSON-LD ``@context`` (string, object or list), plus the standard ones."""
    prefixes = dict(STANDARD_PREFIXES)
    items = context if isinstance(context, list) else [context]
    for item in items:
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str) and not key.startswith("@") and (value.endswith(("/", "#", ":"))):
                    prefixes[key] = value
    return prefixes


def expand_curie(value: str, prefixes: dict[str, str]) -> str:
    prefix, sep, local = value.partition(":")
    if sep and prefix in prefixes and not local.startswith("//"):
        return prefixes[prefix] + local
    return value


def normalize_term(field: str, value: str, prefixes: dict[str, str]) -> str:
    """The stored form of a vocabulary value: the bare CBV word when it is a standard term (in any
    spelling), else the full extension URI. Raises VocabularyError for a CBV-looking value that is not
    a CBV term, or a CURIE whose prefix is not declared in the document's context."""
    words = vocabularies()[field][2]
    value = value.strip()
    if value in words:
        return value
    if value.startswith(("http://", "https://", "urn:")):  # no prefix involved: cacheable
        return _normalize_absolute(field, value)
    return _normalize(field, value, prefixes)


@cache
def _normalize_absolute(field: str, value: str) -> str:
    return _normalize(field, value, STANDARD_PREFIXES)


def _normalize(field: str, value: str, prefixes: dict[str, str]) -> str:
    term_prefix, urn_prefix, words = vocabularies()[field]
    if value.startswith(urn_prefix):
        word = value[len(urn_prefix):]
    else:
        full = expand_curie(value, prefixes)
        if full == value and ":" in value and not value.startswith(("http://", "https://", "urn:")):
            prefix = value.split(":", 1)[0]
            raise VocabularyError(f"前缀 {prefix}: 未在 @context 中声明")
        if not full.startswith(CBV):
            if ":" not in full:
                raise VocabularyError(f"{value} 不是CBV标准词汇")
            return full  # an extension term (e.g. a national 接种 step), kept as its URI
        word = full[len(CBV):]
        if not word.startswith(term_prefix):
            raise VocabularyError(f"{value} 不是 {field} 的CBV词汇")
        word = word[len(term_prefix):]
    if word not in words:
        raise VocabularyError(f"{value} 不是CBV 2.0中的 {field} 词汇")
    return word


def term_uri(field: str, stored: str) -> str:
    """The GS1 Web URI of a stored vocabulary value (for the event hash)."""
    if ":" in stored:
        return stored
    return CBV + vocabularies()[field][0] + stored
