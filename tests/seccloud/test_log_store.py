"""The tiled Merkle log: roots and proofs read from tiles equal the reference algorithm; signed tree
heads; the API; the offline verifier; retention keeps proofs valid."""

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from smartgov.core import merkle
from smartgov.core.crypto.sm2 import SM2PrivateKey
from smartgov.core.permissions import Role
from smartgov.seccloud import ingest, services, store, verifier
from smartgov.seccloud.models import Event, TreeHead
from tests import factories

from .factories import ADMIN, http_source, send


def _lines(n, start=0, at=None):
    at = at or datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    return [json.dumps({"time": (at + timedelta(seconds=i)).isoformat(), "action": "x", "message": f"m{start + i}"})
            for i in range(n)]


def _leaves():
    return [ingest.event_leaf_bytes(e) for e in Event.objects.order_by("seq")]


@pytest.mark.django_db
def test_tiles_give_the_reference_root_and_proofs_across_tile_boundaries():
    source, _ = http_source()
    # batches of odd sizes so appends straddle tile edges (256) and fill a stratum-1 entry
    for n in (1, 300, 7, 255, 1):
        send(source, _lines(n), kind="json")
    leaves = _leaves()
    size = len(leaves)
    assert size == 564
    assert store.root_at(size) == merkle.root_of(leaves) == store.head()[1].root()
    for m in (1, 255, 256, 257, 300, 511, 512, 563):
        assert store.root_at(m) == merkle.root_of(leaves[:m])
        assert store.consistency_proof(m, size) == merkle.consistency_proof(leaves, m)
    for i in (0, 1, 255, 256, 300, 511, 512, 563):
        assert store.inclusion_proof(i, size) == merkle.inclusion_proof(leaves, i)
        assert store.inclusion_proof(i, 520 if i < 520 else size) == \
            merkle.inclusion_proof(leaves[:520 if i < 520 else size], i)


def _grow(sizes):
    """Append synthetic leaf hashes in batches of ``sizes`` as ingest does (head lock aside)."""
    import os
    leaves, size = [], 0
    for n in sizes:
        batch = [os.urandom(32) for _ in range(n)]
        store.append_leaf_hashes(size, batch)
        leaves += batch
        size += n
    return leaves


def _root(leaf_hashes):
    frontier = merkle.Frontier()
    for h in leaf_hashes:
        frontier._push(h, 0)
    return frontier.root()


def _reference_node(leaves, h, i):
    level = leaves[i << h:(i + 1) << h]
    while len(level) > 1:
        level = [merkle.node_hash(level[t], level[t + 1]) for t in range(0, len(level), 2)]
    return level[0]


@pytest.mark.django_db
def test_stored_tile_levels_equal_the_tree_however_the_appends_were_split():
    from smartgov.seccloud.models import LogTile
    leaves = _grow([1, 15, 1, 17, 200, 30, 256, 3, 511, 1, 67000 - 1035])
    assert len(leaves) == 67000  # a full stratum-1 tile: its root is a stratum-2 entry
    for tile in LogTile.objects.all():
        levels = bytes(tile.levels)
        assert len(levels) == store.INNER_SLOTS * store.HASH
        width = len(tile.hashes) // store.HASH
        for r in range(store.STORED_FROM, store.HEIGHT + 1):
            for k in range(width >> r):
                o = store._inner_offset(r, k)
                assert levels[o:o + store.HASH] == _reference_node(
                    leaves, 8 * tile.stratum + r, (tile.index << (8 - r)) + k)
    reader = store.TileReader()
    for h, i in ((0, 66999), (3, 8374), (4, 4186), (8, 260), (11, 31), (16, 0), (12, 15)):
        assert reader.node(h, i) == _reference_node(leaves, h, i)
    with pytest.raises(LookupError):  # a subtree not complete yet
        reader.node(4, 4187)
    root = _root(leaves)
    for i in (0, 255, 256, 4095, 65535, 65536, 66999):
        assert merkle.verify_leaf_inclusion(leaves[i], i, 67000, store.inclusion_proof(i, 67000), root)
    for m in (1, 16, 4096, 65536, 66000):
        assert store.root_at(m) == _root(leaves[:m])
        assert merkle.verify_consistency(m, 67000, store.root_at(m), root, store.consistency_proof(m, 67000))


@pytest.mark.django_db
def test_tiles_written_before_levels_were_stored_still_prove_and_gain_levels_when_extended():
    from smartgov.seccloud.models import LogTile
    leaves = _grow([300])
    LogTile.objects.update(levels=b"")  # as migration 0005 leaves existing tiles
    size = len(leaves)
    for i in (0, 17, 255, 256, 299):
        proof = store.inclusion_proof(i, size)
        assert merkle.verify_leaf_inclusion(leaves[i], i, size, proof, _root(leaves))
    more = [bytes([7]) * 32 for _ in range(20)]
    store.append_leaf_hashes(size, more)
    leaves += more
    partial = LogTile.objects.get(stratum=0, index=1)
    assert len(bytes(partial.levels)) == store.INNER_SLOTS * store.HASH
    assert store.TileReader().node(4, 16 + 3) == _reference_node(leaves, 4, 19)


@pytest.mark.django_db
def test_signed_tree_head_and_api_proofs_verify_offline(tmp_path, platform_keys):
    source, _ = http_source()
    send(source, _lines(40), kind="json")
    first = services.sign_tree_head(actor=ADMIN)
    assert services.sign_tree_head(actor=ADMIN) is None  # nothing new
    send(source, _lines(25, 40), kind="json")
    services.sign_tree_head(actor=ADMIN)
    assert TreeHead.objects.count() == 2 and first["tree_size"] == 40

    analyst = factories.user(Role.SECADMIN)
    client = factories.staff_client(analyst)
    sth = client.get("/api/seccloud/log/sth").json()
    assert sth["tree_size"] == 65
    proof = client.get("/api/seccloud/log/inclusion", {"seq": 17, "size": 65}).json()
    leaf = client.get("/api/seccloud/log/leaf/17").json()
    cons = client.get("/api/seccloud/log/consistency", {"first": 40, "second": 65}).json()
    old = TreeHead.objects.get(tree_size=40)
    old_json = {"tree_size": 40, "root": old.root, "timestamp_ms": old.timestamp_ms, "key_id": old.key_id,
                "signature": old.signature}
    pub = tmp_path / "log.pub.pem"
    pub.write_bytes(SM2PrivateKey.from_pem(platform_keys.read_bytes()).public_key().to_pem())
    for name, obj in (("sth", sth), ("proof", proof), ("leaf", leaf), ("cons", cons), ("old", old_json)):
        (tmp_path / f"{name}.json").write_text(json.dumps(obj))
    args = ["--key", str(pub), "--sth", str(tmp_path / "sth.json")]
    assert verifier.main([*args, "inclusion", "--proof", str(tmp_path / "proof.json"),
                          "--leaf", str(tmp_path / "leaf.json")]) == 0
    assert verifier.main([*args, "consistency", "--proof", str(tmp_path / "cons.json"),
                          "--old", str(tmp_path / "old.json")]) == 0
    # a changed event no longer verifies
    data = json.loads(base64.b64decode(leaf["leaf"]))
    data["message"] = "edited"
    (tmp_path / "leaf.json").write_text(json.dumps({"leaf": base64.b64encode(json.dumps(data).encode()).decode()}))
    assert verifier.main([*args, "inclusion", "--proof", str(tmp_path / "proof.json"),
                          "--leaf", str(tmp_path / "leaf.json")]) == 1
    # a forged tree head does not verify
    (tmp_path / "sth.json").write_text(json.dumps({**sth, "root": "00" * 32}))
    assert verifier.main([*args, "consistency", "--proof", str(tmp_path / "cons.json"),
                          "--old", str(tmp_path / "old.json")]) == 1


@pytest.mark.django_db
def test_proof_api_refuses_sizes_outside_the_log():
    source, _ = http_source()
    send(source, _lines(5), kind="json")
    client = factories.staff_client(factories.user(Role.SECADMIN))
    assert client.get("/api/seccloud/log/inclusion", {"seq": 1, "size": 6}).json()["code"] == "bad_tree_size"
    assert client.get("/api/seccloud/log/inclusion", {"seq": 4, "size": 3}).json()["code"] == "bad_leaf_index"
    assert client.get("/api/seccloud/log/consistency", {"first": 0, "second": 5}).json()["code"] == "bad_tree_size"
    assert client.get("/api/seccloud/log/consistency", {"first": 3, "second": 9}).json()["code"] == "bad_tree_size"


@pytest.mark.django_db
def test_retention_expires_whole_days_as_a_job_and_keeps_proofs(settings):
    source, _ = http_source()
    today = date(2026, 12, 4)
    old = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)  # 217 days before
    send(source, _lines(3, at=old), kind="json")
    send(source, _lines(2, at=datetime(2026, 6, 8, 3, 0, tzinfo=UTC)), kind="json")  # 179 days: kept
    root = store.root_at(5)
    settings.SECCLOUD_RETENTION_DAYS = 90
    from smartgov.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.expire_events(actor=ADMIN, today=today)
    settings.SECCLOUD_RETENTION_DAYS = 180
    out = services.expire_events(actor=ADMIN, today=today)
    assert out["deleted"] == 3 and Event.objects.count() == 2
    assert store.root_at(5) == root
    kept = Event.objects.get(seq=3)
    assert merkle.verify_inclusion(ingest.event_leaf_bytes(kept), 3, 5, store.inclusion_proof(3, 5), root)


@pytest.mark.django_db
def test_http_ingest_needs_the_sources_token():
    source, token = http_source()
    c = Client()
    body = "\n".join(_lines(3)) + "\nnot json"
    assert c.post("/api/seccloud/ingest", body, content_type="text/plain").status_code == 401
    assert c.post("/api/seccloud/ingest", body, content_type="text/plain",
                  HTTP_AUTHORIZATION="Bearer sgl_wrong").status_code == 401
    resp = c.post("/api/seccloud/ingest", body, content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"received": 4, "stored": 3, "quarantined": 1, "alerts": 0}
    assert "sgl_" not in source.token_hash and len(source.token_hash) == 64


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_leaf_json_writes_the_time_as_isoformat_does(at):
    """Leaves stored before orjson wrote ``at`` used ``isoformat()``: the bytes must not change."""
    ev = {"at": at, "host": "h", "app": "a", "severity": 6, "user": "", "src_ip": "", "action": "", "outcome": "",
          "message": "m", "extra": {}, "raw": "r"}
    assert json.loads(ingest.leaf_bytes(1, ev, 2))["at"] == at.isoformat()
    assert ingest._iso(at) == at.isoformat()
