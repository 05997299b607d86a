"""Read an EPCISDocument event by event without holding the whole document in memory.

A small scanner finds the structural characters outside strings (one C-speed regex skips everything
else), locates ``epcisBody.eventList`` and hands each event's raw bytes to ``orjson``. The rest of the
document (the header, with an empty eventList) is kept and parsed at the end. The ``@context`` must
come before ``epcisBody`` (as in every GS1 example) for CURIEs in events to resolve while streaming;
``header_so_far`` gives it.
"""

import re
from collections.abc import Iterable, Iterator

import orjson

# everything up to the next { } [ ] outside a string; strings are skipped whole (unrolled loop)
_SKIP = re.compile(rb'[^"{}\[\]]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"{}\[\]]*)*')
_KEY_BEFORE = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:\s*\Z')


class DocumentError(ValueError):
    pass


class EventStream:
    """Iterate over raw event byte strings of a document given as chunks; then ``header()``."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self.skeleton = bytearray()
        self.saw_event_list = False

    def _more(self, buf: bytes) -> bytes | None:
        for chunk in self._chunks:
            if chunk:
                return buf + chunk
        return None

    def __iter__(self) -> Iterator[bytes]:
        buf = b""
        pos = 0
        stack: list[bytes | None] = []  # key under which each open container sits
        event_start = -1
        list_depth = -1
        while True:
            m = _SKIP.match(buf, pos)
            pos = m.end()
            if pos >= len(buf) or buf[pos:pos + 1] == b'"':
                # need more input: keep the unconsumed tail (an event in progress, or the last bytes
                # so that a key just before the next bracket can still be read)
                cut = event_start if event_start >= 0 else max(0, pos - 128)
                if event_start < 0 and not self._in_list(stack, list_depth):
                    self.skeleton += buf[:cut]
                tail = buf[cut:]
                more = self._more(tail)
                if more is None:
                    if stack or event_start >= 0:
                        raise DocumentError("文档不完整：JSON在中途结束")
                    if not self._in_list(stack, list_depth):
                        self.skeleton += tail
                    return
                if event_start >= 0:
                    event_start = 0
                buf, pos = more, pos - cut
                continue
            ch = buf[pos:pos + 1]
            if ch in (b"{", b"["):
                key = None
                if len(stack) <= 2:
                    km = _KEY_BEFORE.search(buf[max(0, pos - 120):pos])
                    key = km.group(1) if km else None
                stack.append(key)
                depth = len(stack)
                if ch == b"[" and depth == 3 and key == b"eventList" and stack[1] == b"epcisBody":
                    list_depth = depth
                    self.saw_event_list = True
                    self.skeleton += buf[:pos + 1]
                    buf, pos = buf[pos + 1:], 0
                    continue
                if ch == b"{" and depth == list_depth + 1 and list_depth > 0 and event_start < 0:
                    event_start = pos
            else:
                if not stack:
                    raise DocumentError("JSON括号不匹配")
                depth = len(stack)
                stack.pop()
                if depth == list_depth + 1 and event_start >= 0 and ch == b"}":
                    yield buf[event_start:pos + 1]
                    event_start = -1
                    buf, pos = buf[pos + 1:], 0
                    continue
                if depth == list_depth and ch == b"]":
                    list_depth = -1
                    buf, pos = buf[pos:], 0  # drop the commas between events; keep "]"
            pos += 1

    @staticmethod
    def _in_list(stack, list_depth) -> bool:
        return list_depth > 0 and len(stack) >= list_depth

    def header_so_far(self) -> dict:
        """The document up to the start of eventList, closed and parsed (for @context)."""
        try:
            return orjson.loads(bytes(self.skeleton) + b"]}}")
        except orjson.JSONDecodeError:
            return {}

    def header(self, tail: bytes = b"") -> dict:
        try:
            doc = orjson.loads(bytes(self.skeleton))
        except orjson.JSONDecodeError as exc:
            raise DocumentError(f"文档不是有效的JSON：{exc}") from None
        if not isinstance(doc, dict):
            raise DocumentError("文档应为JSON对象")
        return doc
