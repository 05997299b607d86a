"""Offline verifier for the security cloud's log (no database, no network):

    python -m smartgov.seccloud.verifier --key log-sm2.pub.pem --sth sth.json inclusion --proof proof.json --leaf leaf.json
    python -m smartgov.seccloud.verifier --key log-sm2.pub.pem --sth sth.json consistency --proof proof.json --old old-sth.json

``sth.json`` is what GET /api/seccloud/log/sth answers; ``proof.json`` what /log/inclusion or
/log/consistency answers; ``leaf.json`` what /log/leaf/{seq} answers. Exit status 0 when valid, 1 when not.
"""

import argparse
import base64
import json
import sys
from pathlib import Path

from smartgov.core import merkle
from smartgov.core.crypto.sm2 import SM2PublicKey


def sth_message(size: int, root_hex: str, timestamp_ms: int) -> bytes:
    return f"smartgov-seccloud-sth/v1\n{size}\n{root_hex}\n{timestamp_ms}\n".encode()


def check_sth(key: SM2PublicKey, sth: dict) -> str | None:
    try:
        ok = key.verify(bytes.fromhex(sth["signature"]), sth_message(int(sth["tree_size"]), sth["root"],
                                                                     int(sth["timestamp_ms"])))
    except (KeyError, ValueError, TypeError):
        ok = False
    return None if ok else "签名树头的SM2签名无效 (STH signature invalid)"


def check_inclusion(sth: dict, proof: dict, leaf: dict) -> str | None:
    try:
        data = base64.b64decode(leaf["leaf"], validate=True)
        path = [bytes.fromhex(p) for p in proof["proof"]]
        size, index = int(proof["tree_size"]), int(proof["leaf_index"])
    except (KeyError, ValueError, TypeError):
        return "证明格式无效 (malformed proof)"
    if size != int(sth["tree_size"]):
        return "证明的树大小与签名树头不符 (proof size differs from STH)"
    if json.loads(data).get("seq") != index:
        return "叶数据的序号与证明不符 (leaf seq differs)"
    if not merkle.verify_leaf_inclusion(merkle.leaf_hash(data), index, size, path, bytes.fromhex(sth["root"])):
        return "包含证明无效 (inclusion proof invalid)"
    return None


def check_consistency(old: dict, sth: dict, proof: dict) -> str | None:
    try:
        path = [bytes.fromhex(p) for p in proof["proof"]]
        m, n = int(proof["first"]), int(proof["second"])
    except (KeyError, ValueError, TypeError):
        return "证明格式无效 (malformed proof)"
    if m != int(old["tree_size"]) or n != int(sth["tree_size"]):
        return "证明的树大小与签名树头不符 (proof sizes differ from STHs)"
    if not merkle.verify_consistency(m, n, bytes.fromhex(old["root"]), bytes.fromhex(sth["root"]), path):
        return "一致性证明无效 (consistency proof invalid)"
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="smartgov-seccloud-verify", description="安全云日志证明离线校验")
    p.add_argument("--key", required=True, help="日志签名公钥 PEM")
    p.add_argument("--sth", required=True, help="签名树头 JSON")
    sub = p.add_subparsers(dest="kind", required=True)
    inc = sub.add_parser("inclusion")
    inc.add_argument("--proof", required=True)
    inc.add_argument("--leaf", required=True)
    con = sub.add_parser("consistency")
    con.add_argument("--proof", required=True)
    con.add_argument("--old", required=True, help="较早的签名树头 JSON")
    args = p.parse_args(argv)
    key = SM2PublicKey.from_pem(Path(args.key).read_bytes())
    sth = json.loads(Path(args.sth).read_text())
    proof = json.loads(Path(args.proof).read_text())
    problem = check_sth(key, sth)
    if problem is None and args.kind == "inclusion":
        problem = check_inclusion(sth, proof, json.loads(Path(args.leaf).read_text()))
    elif problem is None:
        old = json.loads(Path(args.old).read_text())
        problem = check_sth(key, old) or check_consistency(old, sth, proof)
    if problem:
        print(f"INVALID: {problem}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
