"""Read an EPCISDocument event by event without holding the whole document in memory.

A small scanner finds the structural characters outside strings (one C-speed regex skips everything
else), locates ``epcisBody.eventList`` and hands each event's raw bytes to ``orjson``. The rest of the
document (the header, with an empty eventList) is kept and parsed at the end. The ``@context`` must
come before ``epcisBody`` (as in every GS1 example) for CURIEs in events to resolve while streaming;
``header_so_far`` gives it. An EPCISQueryDocument (its events under ``epcisBody.queryResults.resultsBody``)
is read the same way: EPCIS 2.0 §8.2.8 lets a query result be captured as it is.
"""

import re
from collections.abc import Iterable, Iterator

import orjson

# everything up to the next { } [ ] outside a string; strings are skipped whole (unrolled loop)
# possessive quantifiers: a string cut in half at the end of the buffer fails at once instead of
# backtracking through it character by character (which made long strings quadratic)
_SKIP = re.compile(rb'[^"{}\[\]]*+(?:"[^"\\]*+(?:\\.[^"\\]*+)*+"[^"{}\[\]]*+)*+')
_KEY_BEFORE = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:\s*\Z')


def _string_end(buf: bytes, start: int) -> int | None:
    """Index of the quote closing a JSON string, searching from ``start`` (C-speed ``find``), or None."""
    j = buf.find(b'"', start)
    while j != -1:
        k = j - 1
        while buf[k] == 0x5C:  # count the backslashes before it: an even number leaves the quote unescaped
            k -= 1
        if (j - 1 - k) % 2 == 0:
            return j
        j = buf.find(b'"', j + 1)
    return None


class DocumentError(ValueError):
    pass


class EventStream:
    """Iterate over raw event byte strings of a document given as chunks; then ``header()``."""

    def __init__(self, chunks: Iterable[bytes], *, max_pending: int = 4 << 20):
        self._chunks = iter(chunks)
        self.skeleton = bytearray()
        self.saw_event_list = False
        # The bytes carried over between chunks (an event in progress, or a string cut in half) are re-read
        # when the next chunk arrives; bounding them keeps the scan linear in the document's size (one 40 MB
        # string used to take 47 s). No EPCIS event or header value comes near this.
        self.max_pending = max_pending

    def _more(self, buf: bytes) -> bytes | None:
        for chunk in self._chunks:
            if chunk:
                return buf + chunk
        return None

    def __iter__(self) -> Iterator[bytes]:
        buf = b""
        pos = 0
        stack: list[bytes | None] = []  # key under which each open container sits
        event_start = -1   # start of the event being read, or -1
        list_depth = -1    # depth of epcisBody.eventList while inside it
        skel_from = 0      # outside the list: buf[skel_from:] not yet copied to the skeleton
        resume = 0         # a string cut in half at buf[pos]: its closing quote is not before buf[resume]
        while True:
            if not (resume and buf[pos] == 0x22):  # (a cut string is not re-read from its start)
                pos = _SKIP.match(buf, pos).end()
            if pos < len(buf) and buf[pos] == 0x22:  # a string the regex could not finish: find its end
                end = _string_end(buf, max(pos + 1, resume))
                if end is not None:
                    pos, resume = end + 1, 0
                    continue
                resume = len(buf)
            if pos >= len(buf) or buf[pos] == 0x22:  # end of input so far, or a string cut in half
                # keep the unconsumed tail (an event in progress, or the last bytes so that a key just
                # before the next bracket can still be read); the buffer is never re-sliced per event
                cut = event_start if event_start >= 0 else max(0, pos - 128)
                outside = list_depth < 0
                if outside and cut > skel_from:
                    self.skeleton += buf[skel_from:cut]
                skel_from = max(skel_from, cut) - cut
                tail = buf[cut:]
                if len(tail) > self.max_pending:
                    raise DocumentError(f"单个事件或字符串超过 {self.max_pending // 1_048_576} MB"
                                        f" / an event or string is longer than {self.max_pending} bytes")
                more = self._more(tail)
                if more is None:
                    if stack or event_start >= 0:
                        raise DocumentError("文档不完整：JSON在中途结束")
                    if outside:
                        self.skeleton += tail[skel_from:]
                    return
                if event_start >= 0:
                    event_start -= cut
                resume = resume - cut if resume else 0
                buf, pos = more, pos - cut
                continue
            ch = buf[pos]
            if ch in (0x7B, 0x5B):  # { [
                key = None
                if len(stack) <= 4:
                    km = _KEY_BEFORE.search(buf, max(0, pos - 120), pos)
                    key = km.group(1) if km else None
                stack.append(key)
                depth = len(stack)
                if ch == 0x5B and key == b"eventList" and list_depth < 0 and stack[1] == b"epcisBody" and (
                        depth == 3 or (depth == 5 and stack[2] == b"queryResults" and stack[3] == b"resultsBody")):
                    list_depth = depth
                    self.saw_event_list = True
                    self.skeleton += buf[skel_from:pos + 1]
                elif ch == 0x7B and list_depth > 0 and depth == list_depth + 1 and event_start < 0:
                    event_start = pos
            else:
                if not stack:
                    raise DocumentError("JSON括号不匹配")
                depth = len(stack)
                stack.pop()
                if depth == list_depth + 1 and event_start >= 0 and ch == 0x7D:
                    yield buf[event_start:pos + 1]
                    event_start = -1
                elif depth == list_depth and ch == 0x5D:
                    list_depth = -1
                    skel_from = pos  # the skeleton resumes with "]"
            pos += 1

    @staticmethod
    def _in_list(stack, list_depth) -> bool:
        return list_depth > 0 and len(stack) >= list_depth

    def header_so_far(self) -> dict:
        """The document up to the start of eventList, closed and parsed (for @context)."""
        for closing in (b"]}}", b"]}}}}"):
            try:
                return orjson.loads(bytes(self.skeleton) + closing)
            except orjson.JSONDecodeError:
                continue
        return {}

    def header(self, tail: bytes = b"") -> dict:
        try:
            doc = orjson.loads(bytes(self.skeleton))
        except orjson.JSONDecodeError as exc:
            raise DocumentError(f"文档不是有效的JSON：{exc}") from None
        if not isinstance(doc, dict):
            raise DocumentError("文档应为JSON对象")
        return doc
