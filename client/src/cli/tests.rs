//! Tests of the command line's parsing and global options.

use clap::{CommandFactory, Parser};

use super::*;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("kindred").chain(args.iter().copied()))
}

#[test]
fn the_command_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn global_defaults_and_overrides() {
    let cli = parse(&["stats"]).unwrap();
    if std::env::var_os("KINDRED_ENDPOINT").is_none() {
        assert_eq!(cli.global.endpoint, vec!["http://127.0.0.1:7000"]);
    }
    if std::env::var_os("KINDRED_OUTPUT").is_none() {
        assert_eq!(cli.global.output, OutputFormat::Table);
    }
    assert_eq!(cli.global.timeout, 30);

    let cli = parse(&[
        "stats",
        "--endpoint",
        "http://a:7000,http://b:7000",
        "--output",
        "json",
        "--timeout",
        "0",
    ])
    .unwrap();
    assert_eq!(cli.global.endpoint, vec!["http://a:7000", "http://b:7000"]);
    assert_eq!(cli.global.output, OutputFormat::Json);
    assert_eq!(client_options(&cli.global).unwrap().timeout, None);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["frobnicate"],
        vec!["upsert", "--given-name", "ann"],
        vec!["profile", "get"],
        vec!["profile", "get", "--entity", "1", "--email", "a@x.com"],
        vec!["why", "crm:1"],
        vec!["why", "crm:1", "crm:2", "--entity", "3"],
        vec![
            "import",
            "f.csv",
            "--mapping",
            "m.toml",
            "--batch-size",
            "0",
        ],
        vec!["import", "f.csv"],
        vec!["how", "not-a-number"],
        vec!["stats", "--output", "yaml"],
        vec!["generate", "--out", "d", "--difficulty", "extreme"],
        vec!["cluster"],
        vec!["cluster", "frobnicate"],
        vec!["cluster", "status", "extra"],
        vec!["cluster", "add-node", "4"],
        vec!["cluster", "add-node", "0", "h:7000"],
        vec!["cluster", "add-node", "x", "h:7000"],
        vec!["cluster", "remove-node"],
        vec!["cluster", "remove-node", "-1"],
        vec!["cluster", "move-partition", "3"],
        vec!["cluster", "move-partition", "3", "--to", "0"],
        vec!["cluster", "move-partition", "--to", "2"],
        vec!["cluster", "move-partition", "4294967296", "--to", "2"],
        vec!["cluster", "rebalance", "--dry-run=maybe"],
        vec!["cluster", "status", "--change-timeout", "soon"],
    ] {
        let err = parse(&args)
            .err()
            .unwrap_or_else(|| panic!("{args:?} parsed"));
        assert_eq!(err.exit_code(), 2, "{args:?}");
    }
}

#[test]
fn upsert_flags() {
    let cli = parse(&[
        "upsert",
        "--source",
        "crm",
        "--record-id",
        "42",
        "--email",
        "a@x.com",
        "--email",
        "b@x.com",
        "--id",
        "loyalty=L1",
        "--attr",
        "tier=gold",
        "--observed-at",
        "1700000000000",
    ])
    .unwrap();
    let Command::Upsert(a) = cli.command else {
        panic!("not upsert")
    };
    let r = a.record().unwrap();
    assert_eq!((r.source.as_str(), r.record_id.as_str()), ("crm", "42"));
    assert_eq!(r.emails, vec!["a@x.com", "b@x.com"]);
    assert_eq!(r.identifiers[0].value, "L1");
    assert_eq!(r.attributes["tier"], "gold");
    assert_eq!(r.observed_at_ms, 1_700_000_000_000);
}

#[test]
fn upsert_json_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    std::fs::write(
        &path,
        r#"{"source": "web", "record_id": "9", "emails": ["a@x.com"]}"#,
    )
    .unwrap();
    let path = path.to_str().unwrap();

    let Command::Upsert(a) = parse(&["upsert", "--json", path]).unwrap().command else {
        panic!()
    };
    let r = a.record().unwrap();
    assert_eq!((r.source.as_str(), r.record_id.as_str()), ("web", "9"));

    let Command::Upsert(a) = parse(&["upsert", "--json", path, "--record-id", "10"])
        .unwrap()
        .command
    else {
        panic!()
    };
    assert_eq!(a.record().unwrap().record_id, "10");

    let Command::Upsert(a) = parse(&["upsert", "--json", path, "--email", "x@y.com"])
        .unwrap()
        .command
    else {
        panic!()
    };
    assert_eq!(a.record().unwrap_err().exit_code(), 2);

    std::fs::write(dir.path().join("nokey.json"), r#"{"emails": ["a@x.com"]}"#).unwrap();
    let nokey = dir.path().join("nokey.json");
    let Command::Upsert(a) = parse(&["upsert", "--json", nokey.to_str().unwrap()])
        .unwrap()
        .command
    else {
        panic!()
    };
    let e = a.record().unwrap_err();
    assert!(e.to_string().contains("no source"), "{e}");
}

#[test]
fn import_defaults() {
    let cli = parse(&["import", "f.jsonl", "--source", "s", "--mapping", "m.toml"]).unwrap();
    let Command::Import(a) = cli.command else {
        panic!()
    };
    assert_eq!(a.batch_size, 500);
    assert_eq!(a.format, None);
    assert!(!a.no_progress);
    assert_eq!(a.rejects, None);
}

#[test]
fn why_takes_two_records_or_an_entity() {
    let Command::Why(a) = parse(&["why", "crm:1", "web:2"]).unwrap().command else {
        panic!()
    };
    assert_eq!((a.b.as_deref(), a.entity), (Some("web:2"), None));
    let Command::Why(a) = parse(&["why", "crm:1", "--entity", "7"]).unwrap().command else {
        panic!()
    };
    assert_eq!((a.b, a.entity), (None, Some(7)));
}

fn cluster(args: &[&str]) -> cluster::ClusterArgs {
    let mut v = vec!["cluster"];
    v.extend_from_slice(args);
    match parse(&v).unwrap().command {
        Command::Cluster(a) => a,
        c => panic!("{args:?} parsed as {c:?}"),
    }
}

#[test]
fn cluster_commands() {
    use cluster::ClusterCommand as C;
    let a = cluster(&["status"]);
    assert_eq!(a.command, C::Status);
    assert_eq!(a.change_timeout, 1800);
    assert_eq!(
        cluster(&["add-node", "4", "kindred-4.kindred:7000"]).command,
        C::AddNode {
            id: 4,
            address: "kindred-4.kindred:7000".into()
        }
    );
    assert_eq!(
        cluster(&["remove-node", "3"]).command,
        C::RemoveNode { id: 3 }
    );
    assert_eq!(
        cluster(&["move-partition", "17", "--to", "2"]).command,
        C::MovePartition {
            partition: 17,
            to: 2
        }
    );
    assert_eq!(
        cluster(&["move-partition", "--to=2", "0"]).command,
        C::MovePartition {
            partition: 0,
            to: 2
        }
    );
    assert_eq!(
        cluster(&["rebalance"]).command,
        C::Rebalance { dry_run: false }
    );
    assert_eq!(
        cluster(&["rebalance", "--dry-run"]).command,
        C::Rebalance { dry_run: true }
    );
    // --change-timeout goes before or after the subcommand.
    assert_eq!(
        cluster(&["--change-timeout", "60", "rebalance"]).change_timeout,
        60
    );
    assert_eq!(
        cluster(&["remove-node", "3", "--change-timeout", "0"]).change_timeout,
        0
    );
}

#[test]
fn cluster_commands_honour_the_global_flags() {
    let cli = parse(&[
        "cluster",
        "move-partition",
        "5",
        "--to",
        "2",
        "--endpoint",
        "http://a:7000,b:7000",
        "--output",
        "json",
        "--timeout",
        "10",
    ])
    .unwrap();
    assert_eq!(cli.global.endpoint, vec!["http://a:7000", "b:7000"]);
    assert_eq!(cli.global.output, OutputFormat::Json);
    assert_eq!(cli.global.timeout, 10);
    let cli = parse(&["--output", "json", "cluster", "status"]).unwrap();
    assert_eq!(cli.global.output, OutputFormat::Json);
}

#[test]
fn completions_list_the_cluster_commands() {
    let mut buf = Vec::new();
    clap_complete::generate(
        clap_complete::Shell::Bash,
        &mut Cli::command(),
        "kindred",
        &mut buf,
    );
    let text = String::from_utf8(buf).unwrap();
    for want in [
        "cluster",
        "add-node",
        "remove-node",
        "move-partition",
        "rebalance",
        "--dry-run",
        "--to",
        "--change-timeout",
    ] {
        assert!(
            text.contains(want),
            "{want:?} missing in the bash completions"
        );
    }
}

#[test]
fn completions_are_generated_for_every_shell() {
    use clap::ValueEnum;
    for shell in clap_complete::Shell::value_variants() {
        let mut buf = Vec::new();
        clap_complete::generate(*shell, &mut Cli::command(), "kindred", &mut buf);
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains("kindred"), "{shell}");
    }
}

#[tokio::test]
async fn invalid_input_fails_before_connecting() {
    // Nothing listens on port 9 of the loopback: a connection attempt
    // would be exit 1, so exit 2 shows the input was checked first.
    let run_args = |args: &[&str]| {
        let mut v = vec!["--endpoint", "http://127.0.0.1:9"];
        v.extend_from_slice(args);
        parse(&v).unwrap()
    };
    for args in [
        vec!["delete", "no-colon"],
        vec!["get", ":1"],
        vec!["why", "crm:1", "bad"],
        vec!["profile", "get", "--record", "x"],
        vec!["profile", "get", "--id", "novalue"],
        vec!["search", "--limit", "3"],
        vec!["search", "--family-name", "lee", "--min-probability", "2"],
        vec!["upsert", "--source", "s", "--record-id", "1", "--id", "bad"],
        vec![
            "import",
            "/nonexistent.csv",
            "--source",
            "s",
            "--mapping",
            "/nonexistent.toml",
        ],
        vec!["cluster", "add-node", "4", "no-port"],
        vec!["cluster", "add-node", "4", "http://h:7000"],
    ] {
        let e = run(run_args(&args)).await.unwrap_err();
        assert_eq!(e.code, 2, "{args:?}: {e}");
    }
    for args in [
        vec!["stats"],
        vec!["cluster", "status"],
        vec!["cluster", "rebalance", "--dry-run"],
    ] {
        let e = run(run_args(&args)).await.unwrap_err();
        assert_eq!(e.code, 1, "{args:?}: {e}");
        assert!(
            e.message
                .starts_with("cannot connect to http://127.0.0.1:9"),
            "{e}"
        );
    }
}

#[test]
fn generate_writes_the_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let cli = parse(&[
        "generate",
        "--people",
        "20",
        "--seed",
        "3",
        "--difficulty",
        "easy",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    let Command::Generate(a) = cli.command else {
        panic!()
    };
    assert_eq!(generate::run(&Output::new(OutputFormat::Json), a), Ok(0));
    let records = std::fs::read_to_string(out.join("records.csv")).unwrap();
    assert!(records.lines().count() > 20);
    assert!(out.join("truth.csv").exists());
    let mapping = std::fs::read_to_string(out.join("mapping.toml")).unwrap();
    assert!(kindred_proto::mapping::Mapping::from_toml(&mapping).is_ok());
}

/// Every flag and argument of every command says what it is, in words of
/// its own: none is left blank, and no two of one command share a
/// description (a copied doc comment once described `--node-id` as the log
/// format).
#[test]
fn every_flag_of_every_command_has_its_own_description() {
    fn walk(cmd: &clap::Command, path: &str) {
        let mut seen = std::collections::HashMap::new();
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(!help.trim().is_empty(), "{path} --{id} has no description");
            if let Some(other) = seen.insert(help.clone(), id.to_string()) {
                panic!("{path}: --{id} and --{other} share the description {help:?}");
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            assert!(
                sub.get_about().is_some(),
                "{path} {} has no description",
                sub.get_name()
            );
            walk(sub, &format!("{path} {}", sub.get_name()));
        }
    }
    walk(&Cli::command(), "kindred");
}
