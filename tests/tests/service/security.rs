//! Locked doors: which roles may call which RPC, the node-to-node service
//! off the public port and behind mutual TLS, the CLI over TLS with a
//! token, the audit log, and nodes that refuse to start exposed.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kindred_proto::internal::internal_client::InternalClient;
use kindred_proto::internal::RaftMessage;
use kindred_proto::v1::admin_client::AdminClient;
use kindred_proto::v1::cluster_client::ClusterClient;
use kindred_proto::v1::explain_client::ExplainClient;
use kindred_proto::v1::profiles_client::ProfilesClient;
use kindred_proto::v1::records_client::RecordsClient;
use kindred_proto::v1::*;
use kindred_tests::{
    bin, dev_certs, free_port, kindred, new_token, repo, runtime, stdout_ok, Access, Node,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Request};

/// The roles the matrix tries, with `None` for "no credential" and a
/// wrong token.
const ROLES: [&str; 4] = ["reader", "writer", "admin", "privacy"];

/// A node with one token per role in a tokens file.
fn node_with_tokens(dir: &Path) -> (Node, Vec<(String, String)>) {
    let mut lines = String::new();
    let mut tokens = Vec::new();
    for role in ROLES {
        let (token, line) = new_token(&format!("{role}-bot"), role);
        lines.push_str(&line);
        lines.push('\n');
        tokens.push((role.to_string(), token));
    }
    let file = dir.join("tokens");
    std::fs::write(&file, lines).unwrap();
    let admin = tokens[2].1.clone();
    let node = Node::spawn(
        &dir.join("data"),
        free_port(),
        &["--tokens-file", file.to_str().unwrap()],
    )
    .with_access(Access {
        ca: None,
        token: Some(admin),
    });
    node.wait_ready(Duration::from_secs(60));
    (node, tokens)
}

fn with_token<T>(msg: T, token: Option<&str>) -> Request<T> {
    let mut r = Request::new(msg);
    if let Some(t) = token {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    r
}

/// Calls every public RPC once with `token`; the code each one returned.
async fn call_every_rpc(ch: Channel, token: Option<&str>) -> Vec<(&'static str, Code)> {
    let code = |r: Result<(), tonic::Status>| r.err().map_or(Code::Ok, |s| s.code());
    let mut rec = RecordsClient::new(ch.clone());
    let mut pro = ProfilesClient::new(ch.clone());
    let mut exp = ExplainClient::new(ch.clone());
    let mut adm = AdminClient::new(ch.clone());
    let mut clu = ClusterClient::new(ch);
    let record = Record {
        source: "crm".into(),
        record_id: "m1".into(),
        name: Some(PersonName {
            given: "Ada".into(),
            family: "Lovelace".into(),
            ..Default::default()
        }),
        ..Record::default()
    };
    let rref = RecordRef {
        source: "crm".into(),
        record_id: "m1".into(),
    };
    let batch = BulkUpsertRequest {
        records: vec![record.clone()],
    };
    vec![
        (
            "Records/Upsert",
            code(
                rec.upsert(with_token(
                    UpsertRequest {
                        record: Some(record.clone()),
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "Records/BulkUpsert",
            code(
                rec.bulk_upsert(with_token(tokio_stream::iter(vec![batch]), token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Records/Get",
            code(
                rec.get(with_token(
                    GetRecordRequest {
                        record: Some(rref.clone()),
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "Profiles/Get",
            code(
                pro.get(with_token(
                    GetProfileRequest {
                        key: Some(get_profile_request::Key::Record(rref.clone())),
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "Profiles/Search",
            code(
                pro.search(with_token(
                    SearchRequest {
                        query: Some(record.clone()),
                        ..Default::default()
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "Profiles/ExportAssignments",
            code(
                pro.export_assignments(with_token(ExportRequest::default(), token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Profiles/ExportProfiles",
            code(
                pro.export_profiles(with_token(ExportRequest::default(), token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Explain/WhyRecords",
            code(
                exp.why_records(with_token(
                    WhyRecordsRequest {
                        a: Some(rref.clone()),
                        b: Some(rref.clone()),
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "Explain/WhyEntity",
            code(
                exp.why_entity(with_token(
                    WhyEntityRequest {
                        record: Some(rref.clone()),
                        entity_id: 1,
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "Explain/How",
            code(
                exp.how(with_token(HowRequest { entity_id: 1 }, token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Admin/Stats",
            code(
                adm.stats(with_token(StatsRequest {}, token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Admin/GetModel",
            code(
                adm.get_model(with_token(GetModelRequest {}, token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Admin/Train",
            code(
                adm.train(with_token(
                    TrainRequest {
                        dry_run: true,
                        ..Default::default()
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "Admin/ListAudit",
            code(
                adm.list_audit(with_token(ListAuditRequest::default(), token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Cluster/Status",
            code(
                clu.status(with_token(ClusterStatusRequest {}, token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Cluster/AddNode",
            code(
                clu.add_node(with_token(
                    AddNodeRequest {
                        node_id: 0,
                        address: String::new(),
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "Cluster/RemoveNode",
            code(
                clu.remove_node(with_token(RemoveNodeRequest { node_id: 99 }, token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Cluster/MovePartition",
            code(
                clu.move_partition(with_token(
                    MovePartitionRequest {
                        partition: 9999,
                        to_node: 1,
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
        (
            "Cluster/Rebalance",
            code(
                clu.rebalance(with_token(RebalanceRequest { dry_run: true }, token))
                    .await
                    .map(drop),
            ),
        ),
        (
            "Records/Delete",
            code(
                rec.delete(with_token(
                    DeleteRequest {
                        record: Some(rref.clone()),
                    },
                    token,
                ))
                .await
                .map(drop),
            ),
        ),
    ]
}

/// Whether `role` may call `rpc`, as the README's table says.
fn allowed(role: &str, rpc: &str) -> bool {
    let admin_only = [
        "Admin/Train",
        "Admin/ListAudit",
        "Cluster/AddNode",
        "Cluster/RemoveNode",
        "Cluster/MovePartition",
        "Cluster/Rebalance",
    ];
    let writes = ["Records/Upsert", "Records/BulkUpsert", "Records/Delete"];
    if admin_only.contains(&rpc) {
        role == "admin"
    } else if writes.contains(&rpc) {
        role == "writer" || role == "admin"
    } else {
        true
    }
}

#[test]
fn every_public_rpc_admits_exactly_the_roles_allowed_to_call_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (node, tokens) = node_with_tokens(tmp.path());
    let rt = runtime();
    rt.block_on(async {
        let ch = Endpoint::from_shared(node.endpoint())
            .unwrap()
            .connect()
            .await
            .unwrap();
        for (rpc, code) in call_every_rpc(ch.clone(), None).await {
            assert_eq!(code, Code::Unauthenticated, "{rpc} without a credential");
        }
        for (rpc, code) in call_every_rpc(ch.clone(), Some("kdt_wrong")).await {
            assert_eq!(code, Code::Unauthenticated, "{rpc} with a bad token");
        }
        for (role, token) in &tokens {
            for (rpc, code) in call_every_rpc(ch.clone(), Some(token)).await {
                let denied = matches!(code, Code::Unauthenticated | Code::PermissionDenied);
                assert_eq!(!denied, allowed(role, rpc), "{rpc} as {role}: {code:?}");
                if denied {
                    assert_eq!(code, Code::PermissionDenied, "{rpc} as {role}");
                }
            }
        }
        // Health stays open.
        let mut health = tonic_health::pb::health_client::HealthClient::new(ch);
        let h = health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await;
        assert!(h.is_ok(), "health needs no credential: {h:?}");
    });
    // The denials and the admin actions are in the audit log; a reader
    // may not read it.
    let audit = stdout_ok(&kindred(
        &node,
        &["--output", "json", "audit", "list", "--since", "1h"],
    ));
    let v: serde_json::Value = serde_json::from_str(&audit).unwrap();
    let entries = v["entries"].as_array().unwrap();
    let denied = entries
        .iter()
        .filter(|e| e["outcome"].as_str().unwrap().starts_with("denied"))
        .count();
    assert!(denied >= 40, "{denied} denials audited of at least 40");
    // A caller refused for their role is named, with the role; only
    // callers that did not authenticate are anonymous.
    let by_role: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["outcome"].as_str().unwrap().contains("PermissionDenied"))
        .collect();
    assert!(!by_role.is_empty(), "no denial for a role audited");
    for e in by_role {
        assert_ne!(e["caller"], "-", "{e}");
        assert_ne!(e["role"], "", "{e}");
    }
    assert!(entries
        .iter()
        .any(|e| e["action"] == "/kindred.v1.Admin/Train" && e["caller"] == "admin-bot"));
    let reader = Command::new(bin("kindred"))
        .args([
            "--endpoint",
            &node.endpoint(),
            "--token",
            &tokens[0].1,
            "audit",
            "list",
        ])
        .output()
        .unwrap();
    assert!(!reader.status.success());
    assert!(
        String::from_utf8_lossy(&reader.stderr).contains("PERMISSION_DENIED"),
        "{reader:?}"
    );
}

#[test]
fn the_internal_service_is_not_served_on_the_public_port() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    let rt = runtime();
    rt.block_on(async {
        let ch = Endpoint::from_shared(node.endpoint())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let r = InternalClient::new(ch)
            .raft(RaftMessage { message: vec![] })
            .await;
        assert_eq!(r.unwrap_err().code(), Code::Unimplemented);
    });
}

/// An internal client presenting `identity` (or none) with `ca`.
async fn internal_call(
    port: u16,
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<(), String> {
    let mut tls =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(std::fs::read(ca).unwrap()));
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(
            std::fs::read(cert).unwrap(),
            std::fs::read(key).unwrap(),
        ));
    }
    let ep = Endpoint::from_shared(format!("https://127.0.0.1:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect_timeout(Duration::from_secs(5));
    let ch = ep.connect().await.map_err(|e| format!("connect: {e:?}"))?;
    match InternalClient::new(ch)
        .raft(RaftMessage { message: vec![] })
        .await
    {
        Ok(_) => Ok(()),
        // The service's own answer to an empty message: the caller got in.
        Err(s) if s.message().contains("delivered to node") => Ok(()),
        Err(s) => Err(format!("{s:?}")),
    }
}

#[test]
fn the_internal_port_admits_only_peers_with_an_allowed_cluster_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let (ours, theirs) = (tmp.path().join("ours"), tmp.path().join("theirs"));
    dev_certs(&ours, &["node-1", "intruder"]);
    dev_certs(&theirs, &["node-1"]);
    let p = |d: &Path, f: &str| d.join(f).to_str().unwrap().to_string();
    let node = Node::start_with(
        &tmp.path().join("data"),
        &[
            "--internal-tls-cert",
            &p(&ours, "node-1.pem"),
            "--internal-tls-key",
            &p(&ours, "node-1-key.pem"),
            "--internal-ca",
            &p(&ours, "ca.pem"),
            "--internal-allowed-names",
            "node-1",
        ],
    );
    let port = node.internal_port;
    let rt = runtime();
    rt.block_on(async {
        let ca = ours.join("ca.pem");
        let good = (ours.join("node-1.pem"), ours.join("node-1-key.pem"));
        internal_call(port, &ca, Some((&good.0, &good.1)))
            .await
            .expect("a cluster peer gets in");
        assert!(
            internal_call(port, &ca, None).await.is_err(),
            "no client certificate"
        );
        let intruder = (ours.join("intruder.pem"), ours.join("intruder-key.pem"));
        assert!(
            internal_call(port, &ca, Some((&intruder.0, &intruder.1)))
                .await
                .is_err(),
            "name not allowed"
        );
        let foreign = (theirs.join("node-1.pem"), theirs.join("node-1-key.pem"));
        assert!(
            internal_call(port, &ca, Some((&foreign.0, &foreign.1)))
                .await
                .is_err(),
            "another CA"
        );
        let plain = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await;
        if let Ok(ch) = plain {
            let r = InternalClient::new(ch)
                .raft(RaftMessage { message: vec![] })
                .await;
            assert!(r.is_err(), "plaintext on the mTLS port");
        }
    });
    // The refused connections are audited.
    let audit = stdout_ok(&kindred(&node, &["--output", "json", "audit", "list"]));
    assert!(audit.matches("\"connect\"").count() >= 3, "{audit}");
}

#[test]
fn the_cli_works_over_tls_with_a_token_and_not_without_one() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    dev_certs(&certs, &["localhost"]);
    let (token, line) = new_token("loader", "writer");
    let tokens = tmp.path().join("tokens");
    std::fs::write(&tokens, format!("{line}\n")).unwrap();
    let p = |f: &str| certs.join(f).to_str().unwrap().to_string();
    let node = Node::spawn(
        &tmp.path().join("data"),
        free_port(),
        &[
            "--tls-cert",
            &p("localhost.pem"),
            "--tls-key",
            &p("localhost-key.pem"),
            "--tokens-file",
            tokens.to_str().unwrap(),
        ],
    )
    .with_access(Access {
        ca: Some(certs.join("ca.pem")),
        token: Some(token),
    });
    node.wait_ready(Duration::from_secs(60));
    let sample = repo().join("client/data/sample");
    let import = kindred(
        &node,
        &[
            "import",
            sample.join("records.csv").to_str().unwrap(),
            "--mapping",
            sample.join("mapping.toml").to_str().unwrap(),
            "--no-progress",
        ],
    );
    stdout_ok(&import);
    let stats = stdout_ok(&kindred(&node, &["--output", "json", "stats"]));
    assert!(stats.contains("\"records\""), "{stats}");
    let anonymous = Command::new(bin("kindred"))
        .args([
            "--endpoint",
            &node.endpoint(),
            "--ca",
            &p("ca.pem"),
            "stats",
        ])
        .output()
        .unwrap();
    assert!(!anonymous.status.success());
    assert!(
        String::from_utf8_lossy(&anonymous.stderr).contains("credentials"),
        "{anonymous:?}"
    );
    let plaintext = Command::new(bin("kindred"))
        .args([
            "--endpoint",
            &format!("http://127.0.0.1:{}", node.port),
            "stats",
        ])
        .output()
        .unwrap();
    assert!(
        !plaintext.status.success(),
        "plaintext to a TLS listener must fail"
    );
}

#[test]
fn a_node_refuses_to_start_reachable_without_credentials_or_with_plaintext_peers() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(bin("kindred-node"))
            .args(["--data-dir", tmp.path().join("d").to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };
    let open = run(&[
        "--listen",
        &format!("0.0.0.0:{}", free_port()),
        "--internal-listen",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    assert!(!open.status.success());
    assert!(
        String::from_utf8_lossy(&open.stderr).contains("no credentials"),
        "{open:?}"
    );
    let peers = run(&[
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--internal-listen",
        &format!("0.0.0.0:{}", free_port()),
    ]);
    assert_eq!(peers.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&peers.stderr).contains("internal_tls"),
        "{peers:?}"
    );
}
