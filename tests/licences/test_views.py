

def test_verify_page_hands_eid_payloads_to_the_eid_check(client):
    resp = client.post("/verify/", {"p": "SGE1.abc.def"})
    assert resp.status_code == 302 and resp["Location"].startswith("/eid/check/?p=SGE1.abc.def")
