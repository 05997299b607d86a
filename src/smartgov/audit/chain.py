"""The fixed points of the audit chain, shared by the writer (``services``) and the verifier (``selectors``)."""

GENESIS = bytes(32)  # the "previous hash" of the first entry


def checkpoint_message(size: int, root: str, last_hash: str) -> bytes:
    """The bytes a checkpoint's SM2 signature covers (tree size, Merkle root, last entry hash)."""
    return f"smartgov-audit-checkpoint:v1:{size}:{root}:{last_hash}".encode()
