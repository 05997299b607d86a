"""Merkle tree hashing as RFC 6962 §2.1 defines it, with SM3 in place of SHA-256.

    MTH({d0}) = H(0x00 ‖ d0)                     (leaf)
    MTH(D[n]) = H(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])), k the largest power of two < n   (node)

A *frontier* is the list of roots of the perfect subtrees that make up the first n leaves, largest
first (the binary decomposition of n). Appending a leaf merges equal-sized subtrees, so the tree can
be grown one entry at a time with O(1) amortised hashing, and the RFC 6962 root of the first n
leaves is the right-to-left fold of the frontier.
"""

from smartgov.core.crypto.sm3 import new_sm3, sm3

LEAF = b"\x00"
NODE = b"\x01"
# SM3 states that have already absorbed the domain prefix: copying one is cheaper than hashing it again.
_LEAF = new_sm3()
_LEAF.update(LEAF)
_NODE = new_sm3()
_NODE.update(NODE)


def leaf_hash(data: bytes) -> bytes:
    h = _LEAF.copy()
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    h = _NODE.copy()
    h.update(left)
    h.update(right)
    return h.digest()


def subtree_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """All levels of the perfect subtrees over ``leaves`` (level 0: leaf hashes; level k: roots of
    aligned blocks of 2^k leaves), computed level by level — the fast path for verifying many
    entries at once. Incomplete blocks at the right end are left for ``frontier_at``."""
    levels = [[leaf_hash(d) for d in leaves]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


def frontier_at(levels: list[list[bytes]], n: int) -> list[bytes]:
    """The frontier (largest subtree first) of the first ``n`` leaves, read off ``subtree_levels``:
    for each set bit h of n, the level-h node with index (n >> h) - 1."""
    return [levels[h][(n >> h) - 1] for h in range(n.bit_length() - 1, -1, -1) if n >> h & 1]


class Frontier:
    """Incremental RFC 6962 tree: ``append(leaf_data)``; ``root()`` of everything appended so far."""

    __slots__ = ("nodes", "size")

    def __init__(self, size: int = 0, nodes: list[bytes] | None = None):
        self.size = size
        self.nodes = nodes or []  # roots of perfect subtrees, largest first

    def append(self, data: bytes) -> None:
        h = leaf_hash(data)
        n = self.size
        # each trailing 1-bit of n is a subtree of the same size as the carry: merge it
        while n & 1:
            h = node_hash(self.nodes.pop(), h)
            n >>= 1
        self.nodes.append(h)
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return sm3(b"")  # RFC 6962: MTH({}) = HASH()
        h = self.nodes[-1]
        for left in reversed(self.nodes[:-1]):
            h = node_hash(left, h)
        return h

    def copy(self) -> "Frontier":
        return Frontier(self.size, list(self.nodes))

    def dumps(self) -> bytes:
        return b"".join(self.nodes)

    @classmethod
    def loads(cls, size: int, blob: bytes) -> "Frontier":
        blob = bytes(blob)
        nodes = [blob[i:i + 32] for i in range(0, len(blob), 32)]
        if len(nodes) != size.bit_count():
            raise ValueError(f"a frontier of {size} leaves has {size.bit_count()} nodes, not {len(nodes)}")
        return cls(size, nodes)

    def extend(self, other: "Frontier") -> None:
        """Append a whole aligned block: ``other`` covers leaves [size, size + other.size) and ``size`` is
        a multiple of the largest power of two in ``other.size`` (true for chunks of a fixed 2^k)."""
        for node, height in zip(other.nodes, _heights(other.size), strict=True):
            self._push(node, height)

    def _push(self, node: bytes, height: int) -> None:
        n = self.size >> height
        while n & 1:
            node = node_hash(self.nodes.pop(), node)
            n >>= 1
        self.nodes.append(node)
        self.size += 1 << height


def _heights(size: int) -> list[int]:
    """Heights of the perfect subtrees making up ``size`` leaves, largest first."""
    return [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]


def root_of(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH by the recursive definition; used to cross-check ``Frontier`` in tests."""
    n = len(leaves)
    if n == 0:
        return sm3(b"")
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """RFC 6962 §2.1.1 audit path for leaf ``index`` in the tree of ``leaves``."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if index < k:
        return [*inclusion_proof(leaves[:k], index), root_of(leaves[k:])]
    return [*inclusion_proof(leaves[k:], index - k), root_of(leaves[:k])]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """Check an audit path (RFC 9162 §2.1.3.2 algorithm, which verifies RFC 6962 paths)."""
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
