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


# --- any hash: the same algorithms with the hash injected (SHA-256 for the RFC 6962 test vectors) ---

class TreeHasher:
    """RFC 6962 §2.1 hashing with a chosen hash: ``TreeHasher(hashlib.sha256)`` or the SM3 default."""

    __slots__ = ("_leaf", "_node", "empty", "size")

    def __init__(self, new_hash):
        self._leaf = new_hash()
        self._leaf.update(LEAF)
        self._node = new_hash()
        self._node.update(NODE)
        self.empty = new_hash().digest()  # MTH({}) = HASH()
        self.size = len(self.empty)

    def leaf(self, data: bytes) -> bytes:
        h = self._leaf.copy()
        h.update(data)
        return h.digest()

    def node(self, left: bytes, right: bytes) -> bytes:
        h = self._node.copy()
        h.update(left)
        h.update(right)
        return h.digest()


SM3_HASHER = TreeHasher(new_sm3)


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_ranges(start: int, end: int) -> list[tuple[int, int]]:
    """The aligned perfect subtrees (level, index) whose concatenation is leaves [start, end), left to
    right, where ``start`` is a multiple of a power of two at least as large as end - start (true of
    every range RFC 6962's recursion visits). Their right-to-left fold is MTH(D[start:end])."""
    out = []
    while start < end:
        h = (end - start).bit_length() - 1
        out.append((h, start >> h))
        start += 1 << h
    return out


def range_hash(get_node, start: int, end: int, hasher: TreeHasher = SM3_HASHER) -> bytes:
    """MTH(D[start:end]) from stored perfect-subtree hashes ``get_node(level, index)``."""
    nodes = [get_node(h, i) for h, i in perfect_ranges(start, end)]
    r = nodes[-1]
    for left in reversed(nodes[:-1]):
        r = hasher.node(left, r)
    return r


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes make up the RFC 6962 §2.1.1 audit path of leaf ``index``
    in a tree of ``size`` leaves, nearest the leaf first (PATH(m, D[n]))."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    out = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes make up the RFC 6962 §2.1.2 consistency proof
    PROOF(m, D[n]) for 0 < m ≤ n, in the order the RFC lists them."""
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from size {m} to size {n}")
    out = []
    lo, hi, complete = 0, n, True  # SUBPROOF(m, D[lo:hi], b)
    while True:
        size = hi - lo
        if m == size:
            if not complete:
                out.append((lo, hi))
            break
        k = _split(size)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    out.reverse()
    return out


def consistency_proof(leaves: list[bytes], m: int, hasher: TreeHasher = SM3_HASHER) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(m, D[n]) over the whole list of leaf data (the reference, for tests)."""
    n = len(leaves)
    if m == n:
        return []
    return [_mth(leaves[a:b], hasher) for a, b in consistency_ranges(m, n)]


def _mth(leaves: list[bytes], hasher: TreeHasher) -> bytes:
    n = len(leaves)
    if n == 0:
        return hasher.empty
    if n == 1:
        return hasher.leaf(leaves[0])
    k = _split(n)
    return hasher.node(_mth(leaves[:k], hasher), _mth(leaves[k:], hasher))


def mth(leaves: list[bytes], hasher: TreeHasher = SM3_HASHER) -> bytes:
    """RFC 6962 MTH(D[n]) with the given hash (recursive definition)."""
    return _mth(leaves, hasher)


def audit_path(leaves: list[bytes], index: int, hasher: TreeHasher = SM3_HASHER) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n]) with the given hash."""
    return [_mth(leaves[a:b], hasher) for a, b in inclusion_ranges(index, len(leaves))]


def verify_leaf_inclusion(leaf_hash_: bytes, index: int, size: int, proof: list[bytes], root: bytes,
                          hasher: TreeHasher = SM3_HASHER) -> bool:
    """Check an audit path from a leaf *hash* (RFC 9162 §2.1.3.2). Any wrong index, size, path
    length or hash answers False."""
    if not 0 <= index < size or len(root) != hasher.size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash_
    for p in proof:
        if sn == 0 or len(p) != hasher.size:
            return False
        if fn & 1 or fn == sn:
            r = hasher.node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hasher.node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, proof: list[bytes],
                       hasher: TreeHasher = SM3_HASHER) -> bool:
    """Check a consistency proof between tree sizes m ≤ n (RFC 9162 §2.1.4.2, which verifies
    RFC 6962 §2.1.2 proofs). Every wrong size, proof length or hash answers False."""
    if m < 0 or n < m or any(len(p) != hasher.size for p in proof):
        return False
    if m == n:
        return not proof and root_m == root_n
    if m == 0:
        return not proof  # every tree extends the empty one; nothing to prove
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:  # m is a power of two: the old root is the first node of the path
        path.insert(0, root_m)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hasher.node(c, fr)
            sr = hasher.node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hasher.node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root_m and sr == root_n
