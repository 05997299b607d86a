"""RFC 6962 inclusion and consistency proofs: the published SHA-256 test vectors (the tree algorithm
with SHA-256 injected), SM3 round trips, and fuzzed rejection of every wrong size, index and hash."""

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.core import merkle
from smartgov.core.crypto.sm3 import sm3

SHA = merkle.TreeHasher(hashlib.sha256)
h = bytes.fromhex

# The 8 leaf inputs and roots used by the Certificate Transparency / transparency-dev test suites.
LEAVES = [h(""), h("00"), h("10"), h("2021"), h("3031"), h("40414243"), h("5051525354555657"),
          h("606162636465666768696a6b6c6d6e6f")]
ROOTS = [h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
         h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
         h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
         h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
         h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
         h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
         h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
         h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
         h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
INCLUSION = [  # (leaf index, tree size, path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [  # (size1, size2, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


def test_roots_match_the_published_vectors():
    for n, root in enumerate(ROOTS):
        assert merkle.mth(LEAVES[:n], SHA) == root


def test_inclusion_proofs_match_and_verify():
    for index, size, path in INCLUSION:
        proof = merkle.audit_path(LEAVES[:size], index, SHA)
        assert [p.hex() for p in proof] == path
        assert merkle.verify_leaf_inclusion(SHA.leaf(LEAVES[index]), index, size, proof, ROOTS[size], SHA)


def test_consistency_proofs_match_and_verify():
    for m, n, path in CONSISTENCY:
        proof = merkle.consistency_proof(LEAVES[:n], m, SHA)
        assert [p.hex() for p in proof] == path
        assert merkle.verify_consistency(m, n, ROOTS[m], ROOTS[n], proof, SHA)


def test_trivial_consistency_cases():
    some = h("abacaba000000000000000000000000000000000000000000060061e00123456")
    assert merkle.verify_consistency(0, 0, some, some, [], SHA)
    assert merkle.verify_consistency(0, 1, ROOTS[0], ROOTS[1], [], SHA)
    assert not merkle.verify_consistency(1, 1, ROOTS[1], ROOTS[2], [], SHA)
    assert not merkle.verify_consistency(1, 0, ROOTS[1], ROOTS[0], [], SHA)
    assert not merkle.verify_consistency(1, 2, ROOTS[1], ROOTS[2], [], SHA)
    assert not merkle.verify_consistency(1, 1, ROOTS[1], ROOTS[1], [ROOTS[0]], SHA)


def _inclusion_probes(index, size, proof, root, leaf):
    some = h("abacaba000000000000000000000000000000000000000000060061e00123456")
    probes = [(index - 1, size, proof, root, leaf), (index + 1, size, proof, root, leaf),
              (index ^ 2, size, proof, root, leaf), (index, size * 2, proof, root, leaf),
              (index, size // 2, proof, root, leaf), (index, size, proof, root, b"WrongLeaf"),
              (index, size, proof, ROOTS[0], leaf), (index, size, proof, some, leaf),
              (index, size, [*proof, b""], root, leaf), (index, size, [*proof, root], root, leaf),
              (index, size, [b"", *proof], root, leaf), (index, size, [root, *proof], root, leaf)]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes.append((index, size, wrong, root, leaf))
    if proof:
        probes.append((index, size, proof[:-1], root, leaf))
    if len(proof) > 1:
        probes.append((index, size, [proof[0], some, *proof[1:]], root, leaf))
    return probes


def _consistency_probes(m, n, r1, r2, proof):
    probes = [(m - 1, n, r1, r2, proof), (m + 1, n, r1, r2, proof), (m ^ 2, n, r1, r2, proof),
              (m, n * 2, r1, r2, proof), (m, n // 2, r1, r2, proof), (m, n, b"WrongRoot", r2, proof),
              (m, n, r1, b"WrongRoot", proof), (m, n, r2, r1, proof), (m, n, r1, r2, []),
              (m, n, r1, r2, [*proof, b""]), (m, n, r1, r2, [*proof, r1]), (m, n, r1, r2, [*proof, r2]),
              (m, n, r1, r2, [b"", *proof]), (m, n, r1, r2, [r1, *proof]), (m, n, r1, r2, [r2, *proof]),
              (m, n, r1, r2, [proof[0], *proof]), (m, n, r1, r2, proof[:-1])]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        probes.append((m, n, r1, r2, wrong))
    return probes


def test_corrupted_vector_proofs_are_rejected():
    for index, size, path in INCLUSION:
        proof = [h(p) for p in path]
        for i, s, p, r, leaf in _inclusion_probes(index, size, proof, ROOTS[size], SHA.leaf(LEAVES[index])):
            assert not merkle.verify_leaf_inclusion(leaf, i, s, p, r, SHA), (i, s)
    for m, n, path in CONSISTENCY:
        if not path:
            continue
        proof = [h(p) for p in path]
        for probe in _consistency_probes(m, n, ROOTS[m], ROOTS[n], proof):
            assert not merkle.verify_consistency(*probe[:4], probe[4], SHA), probe[:2]


def test_sm3_hasher_agrees_with_the_sm3_module_functions():
    data = [bytes([i]) * i for i in range(13)]
    assert merkle.mth(data) == merkle.root_of(data)
    assert merkle.SM3_HASHER.empty == sm3(b"")
    for i in range(13):
        assert merkle.audit_path(data, i) == merkle.inclusion_proof(data, i)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 70), st.data())
def test_sm3_proofs_round_trip_and_every_wrong_input_fails(n, data):
    leaves = [i.to_bytes(4, "big") for i in range(n)]
    index = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(1, n))
    root_n, root_m = merkle.mth(leaves), merkle.mth(leaves[:m])
    path = merkle.audit_path(leaves, index)
    leaf = merkle.leaf_hash(leaves[index])
    assert merkle.verify_leaf_inclusion(leaf, index, n, path, root_n)
    for i, s, p, r, lf in _inclusion_probes(index, n, path, root_n, leaf):
        if (i, s, p, r, lf) == (index, n, path, root_n, leaf):
            continue
        if lf == b"WrongLeaf":
            lf = merkle.leaf_hash(b"WrongLeaf")
        # a probe can only pass if it is the same tree position with the same proof
        assert not merkle.verify_leaf_inclusion(lf, i, s, p, r) or (i == index and s == n and p == path)
    cproof = merkle.consistency_proof(leaves, m)
    assert merkle.verify_consistency(m, n, root_m, root_n, cproof)
    if cproof:
        for probe in _consistency_probes(m, n, root_m, root_n, cproof):
            assert not merkle.verify_consistency(*probe[:4], probe[4])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.data())
def test_stored_node_proofs_equal_the_reference(n, data):
    """Proofs assembled from perfect-subtree hashes (what the log store keeps) equal the recursive ones."""
    leaves = [i.to_bytes(4, "big") for i in range(n)]
    levels = merkle.subtree_levels(leaves)

    def get_node(level, idx):
        return levels[level][idx]

    index = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(1, n))
    assert [merkle.range_hash(get_node, a, b) for a, b in merkle.inclusion_ranges(index, n)] == \
        merkle.audit_path(leaves, index)
    if m < n:
        assert [merkle.range_hash(get_node, a, b) for a, b in merkle.consistency_ranges(m, n)] == \
            merkle.consistency_proof(leaves, m)
