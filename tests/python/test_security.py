"""A Python grpcio client over TLS with a bearer token: what a client in
any language does to talk to a secured Kindred node."""

import subprocess

import grpc
import pytest


def _dev_certs(node_bin, directory):
    subprocess.run(
        [str(node_bin), "dev-certs", "--out", str(directory), "--names", "localhost"],
        check=True,
        capture_output=True,
    )


def _token(node_bin, name, role):
    out = subprocess.run(
        [str(node_bin), "token", "--name", name, "--role", role],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return out[0].removeprefix("token: "), out[1]


@pytest.fixture
def secured(node_bin, start_node, tmp_path):
    """A node with TLS and one writer token; (node, token, ca bytes)."""
    certs = tmp_path / "certs"
    _dev_certs(node_bin, certs)
    token, line = _token(node_bin, "py-client", "writer")
    tokens = tmp_path / "tokens"
    tokens.write_text(line + "\n")
    ca = (certs / "ca.pem").read_bytes()
    creds = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=ca),
        grpc.access_token_call_credentials(token),
    )
    node = start_node(
        extra_args=[
            "--tls-cert", str(certs / "localhost.pem"),
            "--tls-key", str(certs / "localhost-key.pem"),
            "--tokens-file", str(tokens),
        ],
        credentials=creds,
    )
    return node, token, ca


def test_tls_and_a_writer_token_can_write_and_read(kindred, secured):
    node, _, _ = secured
    rec = kindred.records.Record(
        source="crm",
        record_id="py-1",
        name=kindred.records.PersonName(given="Grace", family="Hopper"),
        emails=["grace@example.com"],
    )
    node.records.Upsert(kindred.pb.UpsertRequest(record=rec), timeout=10)
    got = node.records.Get(
        kindred.pb.GetRecordRequest(
            record=kindred.pb.RecordRef(source="crm", record_id="py-1")
        ),
        timeout=10,
    )
    assert got.record.name.given == "Grace"


def test_a_writer_may_not_train_and_no_token_is_unauthenticated(kindred, secured):
    node, _, ca = secured
    with pytest.raises(grpc.RpcError) as denied:
        node.admin.Train(kindred.pb.TrainRequest(dry_run=True), timeout=10)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    anonymous = grpc.secure_channel(
        f"localhost:{node.port}", grpc.ssl_channel_credentials(root_certificates=ca)
    )
    try:
        stub = kindred.grpc.AdminStub(anonymous)
        with pytest.raises(grpc.RpcError) as missing:
            stub.Stats(kindred.pb.StatsRequest(), timeout=10)
        assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        anonymous.close()
