"""The signing key: from settings, or a development key kept under var/; rotation keeps old certificates valid."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from server.app import create_app
from server.certificates import keys
from server.certificates.keys import check_keys, key_ring, parse_private_key
from server.certificates.signing import JWKS_PATH, generate_private_key_pem, key_id, public_key_pem
from server.settings import Settings, SettingsError, load_settings
from tests.conftest import LiveServer


def test_development_key_is_created_once_private_and_kept(tmp_path, monkeypatch):
    path = tmp_path / "var" / "certificate-signing-key.pem"
    settings = Settings(certificate_key_file=str(path))
    monkeypatch.setattr(keys, "_cache", {})
    with ThreadPoolExecutor(max_workers=4) as pool:
        pems = set(pool.map(lambda _: keys._development_key(path), range(8)))
    assert len(pems) == 1  # every racer read the same key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = key_ring(settings).kid
    monkeypatch.setattr(keys, "_cache", {})  # a restart
    assert key_ring(settings).kid == first
    assert list(path.parent.iterdir()) == [path]  # no temporary files left behind


def test_key_from_settings_wins_and_accepts_escaped_newlines(tmp_path):
    pem = generate_private_key_pem()
    one_line = pem.replace("\n", "\\n")
    ring = key_ring(Settings(certificate_private_key=one_line, certificate_key_file=str(tmp_path / "unused.pem")))
    assert ring.kid == key_id(parse_private_key(pem))
    assert not (tmp_path / "unused.pem").exists()


def test_production_refuses_to_start_without_a_key_and_with_a_bad_one():
    base = {"LIXIAO_ENV": "production"}
    with pytest.raises(SettingsError, match="LIXIAO_CERTIFICATE_PRIVATE_KEY"):
        load_settings(base)
    with pytest.raises(SettingsError, match="Ed25519"):
        create_app(load_settings({"LIXIAO_CERTIFICATE_PRIVATE_KEY":
                                  "-----BEGIN PRIVATE KEY-----\nno\n-----END PRIVATE KEY-----"}))
    with pytest.raises(SettingsError, match="PUBLIC KEY"):
        check_keys(load_settings({"LIXIAO_CERTIFICATE_RETIRED_PUBLIC_KEYS": "not a key"}))
    with pytest.raises(RuntimeError):
        key_ring(Settings(env="production"))


def test_rotation_keeps_old_certificates_valid_and_publishes_both_keys(settings, submit, counter_client):
    done = submit()
    old = parse_private_key(settings.certificate_private_key)
    new_pem = generate_private_key_pem()
    rotated = settings.with_overrides(certificate_private_key=new_pem,
                                      certificate_retired_public_keys=public_key_pem(old))
    app = create_app(rotated)
    server = LiveServer(app)
    try:
        jwks = requests.get(server.url + JWKS_PATH, timeout=10).json()
        assert [k["kid"] for k in jwks["keys"]] == [key_id(parse_private_key(new_pem)), key_id(old)]
        http = requests.Session()
        http.headers["Authorization"] = counter_client.http.headers["Authorization"]
        response = http.post(server.url + "/api/v1/counter/verify", json={"qr_text": done.certificate["qr_text"]},
                             timeout=10)
        assert response.status_code == 200, response.text
        assert counter_client.post("/api/v1/counter/verify", json={"qr_text": done.certificate["qr_text"]}
                                   ).status_code == 200
    finally:
        server.stop()
        app.extensions["lixiao"].engine.dispose()
    # Without the retired key the old certificate no longer verifies.
    dropped = create_app(settings.with_overrides(certificate_private_key=new_pem))
    server = LiveServer(dropped)
    try:
        http = requests.Session()
        http.headers["Authorization"] = counter_client.http.headers["Authorization"]
        response = http.post(server.url + "/api/v1/counter/verify", json={"qr_text": done.certificate["qr_text"]},
                             timeout=10)
        assert response.status_code == 422 and response.json()["error"]["reason"] == "unknown_key"
    finally:
        server.stop()
        dropped.extensions["lixiao"].engine.dispose()
