"""Importing a public key that cannot be read is the client's error: Nova's 400, never a 500.

Regression: cryptography raises ``UnsupportedAlgorithm`` (not ``ValueError``) for a key of unknown
type, such as the text ``not a key`` the dashboard's import form may send; it used to escape as a 500.
"""

from __future__ import annotations

import pytest

from tests.functional.compute.conftest import Api

GARBAGE = (
    "not a key",  # unknown key type: UnsupportedAlgorithm
    "ssh-foo AAAAB3NzaC1yc2E= x",  # unknown key type with a blob
    "ssh-rsa nope",  # known type, blob not base64
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",  # known type, truncated blob
    "garbage",
    "ssh-rsa",
)


@pytest.mark.parametrize("public_key", GARBAGE)
def test_an_unreadable_public_key_is_a_400(api: Api, public_key: str) -> None:
    resp = api("POST", "/os-keypairs", json={"keypair": {"name": "bad", "public_key": public_key}})
    assert resp.status_code == 400, resp.text
    message = resp.json()["badRequest"]["message"]
    assert message.startswith("Keypair data is invalid: "), message
    assert api.ok("GET", "/os-keypairs")["keypairs"] == []  # nothing was stored


@pytest.mark.parametrize("certificate", ["not a key", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_an_unreadable_x509_certificate_is_a_400(api: Api, certificate: str) -> None:
    body = {"keypair": {"name": "bad-x509", "public_key": certificate, "type": "x509"}}
    resp = api("POST", "/os-keypairs", version="2.2", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"].startswith("Keypair data is invalid: ")
