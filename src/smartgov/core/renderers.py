"""orjson for the API's JSON: faster than the standard library, and Chinese stays readable UTF-8."""

import json
from datetime import date, datetime
from decimal import Decimal

import orjson
from ninja.parser import Parser
from ninja.renderers import BaseRenderer


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request, data, *, response_status):
        try:
            return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            # orjson stops at 64-bit integers; an error echoing a client's huge number must still render
            return json.dumps(data, default=_default, ensure_ascii=False).encode()


class ORJSONParser(Parser):
    def parse_body(self, request):
        return orjson.loads(request.body)  # a failure becomes HttpError(400), answered as "invalid_json"
