import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartgov.core.crypto.sm3 import sm3
from smartgov.core.merkle import Frontier, inclusion_proof, leaf_hash, node_hash, root_of, verify_inclusion


def leaves(n):
    return [f"entry-{i}".encode() for i in range(n)]


def test_leaf_and_node_use_rfc6962_domain_prefixes():
    assert leaf_hash(b"a") == sm3(b"\x00a")
    assert node_hash(b"L" * 32, b"R" * 32) == sm3(b"\x01" + b"L" * 32 + b"R" * 32)
    assert root_of([]) == sm3(b"")
    # three leaves split at k=2 (RFC 6962 §2.1: largest power of two smaller than n)
    a, b, c = leaves(3)
    assert root_of([a, b, c]) == node_hash(node_hash(leaf_hash(a), leaf_hash(b)), leaf_hash(c))


@pytest.mark.parametrize("n", [*range(0, 40), 63, 64, 65, 127, 128, 129, 1000])
def test_incremental_frontier_matches_recursive_definition(n):
    f = Frontier()
    for leaf in leaves(n):
        f.append(leaf)
    assert f.root() == root_of(leaves(n))
    assert Frontier.loads(f.size, f.dumps()).root() == f.root()


@given(st.integers(min_value=1, max_value=70), st.data())
def test_inclusion_proofs_verify_and_reject_wrong_leaf(n, data):
    items = leaves(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    root = root_of(items)
    proof = inclusion_proof(items, i)
    assert verify_inclusion(items[i], i, n, proof, root)
    assert not verify_inclusion(b"forged", i, n, proof, root)
    if n > 1:
        j = (i + 1) % n
        assert not verify_inclusion(items[i], j, n, proof, root)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 64, 100])
def test_level_by_level_frontier_matches_incremental(n):
    from smartgov.core.merkle import frontier_at, subtree_levels

    items = leaves(n)
    levels = subtree_levels(items)
    for k in range(1, n + 1):
        f = Frontier()
        for leaf in items[:k]:
            f.append(leaf)
        assert frontier_at(levels, k) == f.nodes
