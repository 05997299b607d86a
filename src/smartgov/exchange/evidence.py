"""The message log's evidence: canonical bytes of a logged call (the Merkle leaf), the texts the
platform signs, and offline verification of an exported evidence file (``smartgov exchange verify``).

Nothing here touches the database: a court or auditor verifies an evidence file with this module and
the platform's public key alone. The file is canonical JSON (sorted keys, no spaces) and every value in
it is covered by a signature, a digest or the Merkle proof, so changing any one byte is detected.
"""

import re

import orjson

from smartgov.core.crypto.sm2 import SM2PublicKey
from smartgov.core.crypto.sm3 import sm3_hex
from smartgov.core.merkle import verify_inclusion

FORMAT = "smartgov-exchange-evidence/1"
LEAF_KEYS = ("message_id", "at", "resource", "resource_version", "agreement", "consumer", "provider", "caller",
             "purpose", "outcome", "http_status", "request_sm3", "response_sm3", "request_sig", "response_sig",
             "key_id")
BATCH_KEYS = ("id", "size", "root", "signed_at", "key_id", "signature")
HEX = re.compile(r"^[0-9a-f]*$")


def canonical(doc) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def request_text(message_id: str, request_sm3: str) -> bytes:
    return f"smartgov-exchange-request:v1:{message_id}:{request_sm3}".encode()


def response_text(message_id: str, response_sm3: str) -> bytes:
    return f"smartgov-exchange-response:v1:{message_id}:{response_sm3}".encode()


def batch_text(batch_id: int, size: int, root: str, signed_at: str) -> bytes:
    return f"smartgov-exchange-batch:v1:{batch_id}:{size}:{root}:{signed_at}".encode()


def leaf_bytes(leaf: dict) -> bytes:
    """The Merkle leaf of one logged call: its canonical header (identities, purpose, time, digests and
    the platform's signatures)."""
    return canonical({k: leaf[k] for k in LEAF_KEYS})


class EvidenceError(ValueError):
    """An evidence file that does not verify; ``code`` says which check failed."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def _fail(code: str, message: str):
    raise EvidenceError(code, message)


def verify_evidence(data: bytes, *, trusted: SM2PublicKey | None = None) -> dict:
    """Check an evidence file; return its message header, or raise ``EvidenceError``.

    ``trusted``: the platform public key the verifier trusts (otherwise the key in the file is used, and
    only the file's internal consistency is shown)."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        _fail("malformed", "证据文件不是有效的JSON")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        _fail("malformed", "不是本平台的数据交换证据文件")
    if canonical(doc) != data:
        _fail("not_canonical", "证据文件不是规范格式（内容被改动过）")
    allowed = {"format", "message", "batch", "leaf_index", "proof", "public_key", "content"}
    if set(doc) - allowed or not {"message", "batch", "leaf_index", "proof", "public_key"} <= set(doc):
        _fail("malformed", "证据文件的字段不完整或有多余字段")
    msg, batch, proof = doc["message"], doc["batch"], doc["proof"]
    if not isinstance(msg, dict) or set(msg) != set(LEAF_KEYS) or not isinstance(batch, dict) \
            or set(batch) != set(BATCH_KEYS) or not isinstance(proof, list) or not isinstance(doc["leaf_index"], int):
        _fail("malformed", "证据文件的字段不完整或有多余字段")
    for value in (msg["request_sm3"], msg["response_sm3"], msg["request_sig"], msg["response_sig"], msg["key_id"],
                  batch["root"], batch["signature"], batch["key_id"], *proof):
        if not isinstance(value, str) or not HEX.match(value):
            _fail("malformed", "证据文件中的摘要或签名不是小写十六进制")
    try:
        key = SM2PublicKey.from_pem(doc["public_key"].encode())
    except Exception:  # any unreadable key is the same finding
        _fail("bad_key", "证据文件中的平台公钥无法读取")
    if key.to_pem().decode() != doc["public_key"]:  # PEM readers forgive base64 padding bits: one spelling only
        _fail("not_canonical", "证据文件中的平台公钥不是规范的PEM写法（内容被改动过）")
    if trusted is not None and key.public_point() != trusted.public_point():
        _fail("untrusted_key", "签名公钥不是所信任的平台公钥")
    if key.key_id() != msg["key_id"] or key.key_id() != batch["key_id"]:
        _fail("key_mismatch", "签名密钥标识与公钥不符")
    if not key.verify(bytes.fromhex(msg["request_sig"]), request_text(msg["message_id"], msg["request_sm3"])):
        _fail("bad_request_signature", "请求消息的平台签名验证失败")
    if not key.verify(bytes.fromhex(msg["response_sig"]), response_text(msg["message_id"], msg["response_sm3"])):
        _fail("bad_response_signature", "响应消息的平台签名验证失败")
    if not key.verify(bytes.fromhex(batch["signature"]),
                      batch_text(batch["id"], batch["size"], batch["root"], batch["signed_at"])):
        _fail("bad_batch_signature", "批量时间戳的平台签名验证失败")
    if not verify_inclusion(leaf_bytes(msg), doc["leaf_index"], batch["size"], [bytes.fromhex(p) for p in proof],
                            bytes.fromhex(batch["root"])):
        _fail("not_included", "消息不在已签名的时间戳批次中（默克尔证明不成立）")
    content = doc.get("content")
    if content is not None:
        if not isinstance(content, dict) or set(content) != {"request", "response"}:
            _fail("malformed", "证据文件中的消息内容格式不正确")
        if sm3_hex(canonical(content["request"])) != msg["request_sm3"]:
            _fail("request_digest", "请求内容与其SM3摘要不符")
        if sm3_hex(canonical(content["response"])) != msg["response_sm3"]:
            _fail("response_digest", "响应内容与其SM3摘要不符")
    return msg
