"""Tokens, roles and TLS against nodes started with credentials (README,
"Security"): tokens from ``kindred-node token``, certificates from
``kindred-node dev-certs``."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import grpc
import pytest

from kindred_client import (
    KindredClient,
    NotFound,
    PermissionDenied,
    RetryPolicy,
    Unauthenticated,
    Unavailable,
)


def _token(node_bin: Path, name: str, role: str) -> tuple[str, str]:
    out = subprocess.run(
        [str(node_bin), "token", "--name", name, "--role", role], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    return out[0].removeprefix("token: "), out[1]


@pytest.fixture(scope="module")
def tokens(node_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("tokens")
    writer, writer_line = _token(node_bin, "py-writer", "writer")
    reader, reader_line = _token(node_bin, "py-reader", "reader")
    privacy, privacy_line = _token(node_bin, "py-dpo", "privacy")
    path = d / "tokens"
    path.write_text(f"{writer_line}\n{reader_line}\n{privacy_line}\n")
    return {"writer": writer, "reader": reader, "privacy": privacy, "file": path}


@pytest.fixture(scope="module")
def certs(node_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("certs")
    subprocess.run(
        [str(node_bin), "dev-certs", "--out", str(d), "--names", "localhost"], check=True, capture_output=True
    )
    return d


def test_tokens_and_roles_on_a_loopback_node(start_node: Any, make_client: Any, tokens: dict[str, Any]) -> None:
    node = start_node(extra_args=["--tokens-file", str(tokens["file"])])
    writer = make_client(node.endpoint, token=tokens["writer"])
    res = writer.upsert({"source": "auth", "record_id": "1", "given_name": "Grace", "family_name": "Hopper"})
    assert res.entity_id != 0

    reader = make_client(node.endpoint, token=tokens["reader"])
    assert reader.get_record("auth:1").record.name.family == "Hopper"
    with pytest.raises(PermissionDenied) as denied:
        reader.upsert({"source": "auth", "record_id": "2", "given_name": "Ada"})
    assert denied.value.attempts == 1  # not retried
    with pytest.raises(PermissionDenied):
        writer.train(dry_run=True)  # admin only

    for client in (make_client(node.endpoint), make_client(node.endpoint, token="kdt_not_a_real_token")):
        with pytest.raises(Unauthenticated) as missing:
            client.stats()
        assert missing.value.attempts == 1

    # The raw stubs carry the token too.
    from kindred_client.v1 import kindred_pb2

    assert writer.stubs().admin.Stats(kindred_pb2.StatsRequest(), timeout=10).records == 1


def test_tls_with_a_ca_and_a_token(start_node: Any, make_client: Any, tokens: dict[str, Any], certs: Path) -> None:
    ca = (certs / "ca.pem").read_bytes()
    node = start_node(
        extra_args=[
            "--tls-cert",
            str(certs / "localhost.pem"),
            "--tls-key",
            str(certs / "localhost-key.pem"),
            "--tokens-file",
            str(tokens["file"]),
        ],
        credentials=grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(root_certificates=ca), grpc.access_token_call_credentials(tokens["reader"])
        ),
    )
    # https:// with the CA as a path...
    c = make_client(f"https://localhost:{node.port}", ca_cert=certs / "ca.pem", token=tokens["writer"])
    assert c.upsert({"source": "tls", "record_id": "1", "given_name": "Radia", "family_name": "Perlman"}).entity_id
    # ... a scheme-less endpoint with the CA as bytes means TLS, and the
    # certificate's name can differ from the address dialled.
    c2 = make_client(f"127.0.0.1:{node.port}", ca_cert=ca, tls_server_name="localhost", token=tokens["reader"])
    assert c2.profile(record="tls:1").golden.family_name.value.lower() == "perlman"
    with pytest.raises(Unauthenticated):
        make_client(f"https://localhost:{node.port}", ca_cert=ca).stats()


def test_tls_with_the_wrong_ca_is_refused(
    start_node: Any, make_client: Any, tokens: dict[str, Any], certs: Path, node_bin: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    subprocess.run(
        [str(node_bin), "dev-certs", "--out", str(other), "--names", "localhost"], check=True, capture_output=True
    )
    node = start_node(
        extra_args=[
            "--tls-cert",
            str(certs / "localhost.pem"),
            "--tls-key",
            str(certs / "localhost-key.pem"),
            "--tokens-file",
            str(tokens["file"]),
        ],
        credentials=grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(root_certificates=(certs / "ca.pem").read_bytes()),
            grpc.access_token_call_credentials(tokens["reader"]),
        ),
    )
    c = make_client(
        f"https://localhost:{node.port}",
        ca_cert=other / "ca.pem",
        token=tokens["reader"],
        retry=RetryPolicy(max_attempts=2, initial_backoff=0.01),
        timeout=10.0,
    )
    with pytest.raises(Unavailable):
        c.stats()


def test_plaintext_to_a_tls_endpoint_fails_cleanly(
    start_node: Any, make_client: Any, tokens: dict[str, Any], certs: Path
) -> None:
    node = start_node(
        extra_args=[
            "--tls-cert",
            str(certs / "localhost.pem"),
            "--tls-key",
            str(certs / "localhost-key.pem"),
            "--tokens-file",
            str(tokens["file"]),
        ],
        credentials=grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(root_certificates=(certs / "ca.pem").read_bytes()),
            grpc.access_token_call_credentials(tokens["reader"]),
        ),
    )
    c = make_client(
        f"http://127.0.0.1:{node.port}",
        token=tokens["reader"],
        retry=RetryPolicy(max_attempts=2, initial_backoff=0.01),
        timeout=10.0,
    )
    with pytest.raises((Unavailable, Unauthenticated)):
        c.stats()


def test_client_certificate_options_need_tls() -> None:
    with pytest.raises(ValueError, match="need TLS"):
        KindredClient("http://127.0.0.1:7000", ca_cert=b"-----BEGIN CERTIFICATE-----")
    with pytest.raises(ValueError, match="go together"):
        KindredClient("https://127.0.0.1:7000", client_cert=b"x")


def test_consent_subject_access_and_erasure_through_the_client(
    start_node: Any, make_client: Any, tokens: dict[str, Any]
) -> None:
    node = start_node(extra_args=["--tokens-file", str(tokens["file"])])
    writer = make_client(node.endpoint, token=tokens["writer"])
    dpo = make_client(node.endpoint, token=tokens["privacy"])
    person = {"given_name": "Rosa", "family_name": "Parkes", "email": "rosa.parkes@example.net", "date_of_birth": "1981-02-04"}
    writer.upsert({"source": "crm", "record_id": "r1", **person})
    writer.upsert({"source": "web", "record_id": "w1", **person})

    res = writer.set_consent("crm:r1", {"email_marketing": "granted"}, decided_at_ms=1_700_000_000_000)
    assert [r.error for r in res.results] == [""]
    res = writer.set_consent("web:w1", {"email_marketing": "withdrawn", "telepathy": "granted"},
                             decided_at_ms=1_700_000_100_000)
    assert res.results[0].error == ""
    assert "telepathy" in res.results[1].error
    with pytest.raises(ValueError):
        writer.set_consent("web:w1", {"profiling": "perhaps"})
    profile = writer.profile(email="rosa.parkes@example.net")
    email = next(c for c in profile.consent if c.purpose == "email_marketing")
    assert (email.status, email.granted) == (3, False)  # withdrawn: the later decision

    with pytest.raises(PermissionDenied):
        writer.subject_export(email="rosa.parkes@example.net")
    doc = dpo.subject_export(email="rosa.parkes@example.net")
    assert {r.record_id for r in doc.profile.records} == {"r1", "w1"}
    assert len(doc.consent_decisions) == 2
    assert doc.links, "the link between the two records is explained"

    erasure = dpo.erase(email="rosa.parkes@example.net")
    assert erasure.records_erased == 2
    with pytest.raises(NotFound):
        writer.profile(email="rosa.parkes@example.net")
