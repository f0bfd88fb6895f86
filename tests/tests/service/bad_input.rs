//! Bad input gets a clear error naming the field and value, and never
//! loses the rest of the batch: malformed CSV rows, empty ids and
//! oversized records are rejected with their line numbers; values that
//! cannot be standardised (dates, phones) are kept raw and reported; a
//! mapping with an unknown field is refused before anything is sent.

use std::fmt::Write;

use kindred_tests::{kindred, stdout_ok, Node};

#[test]
fn bad_rows_are_reported_and_good_rows_all_land() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    let mapping = tmp.path().join("m.toml");
    std::fs::write(
        &mapping,
        r#"
record_id = "id"
[fields]
given_name = "given"
family_name = "family"
date_of_birth = "dob"
phone = "phone"
[attributes]
note = "note"
"#,
    )
    .unwrap();
    let mut csv = String::from("id,given,family,dob,phone,note\n");
    csv.push_str("1,Ann,Lee,1980-01-02,0412345678,ok\n"); // line 2
    csv.push_str("2,Bo,Chan,31/02/1980,0412345679,bad date\n"); // line 3: impossible date, kept raw
    csv.push_str("3,Cy,Diaz,1970-05-06,12ab,bad phone\n"); // line 4: unusable phone, kept raw
    csv.push_str(",Di,Eng,1960-01-01,,no id\n"); // line 5: rejected (record_id)
    csv.push_str("5,\"Ed,Fox,1950-01-01,,unterminated\n"); // line 6: malformed quoting swallows the rest? keep last
    let mut big = String::new();
    for _ in 0..100_000 {
        big.push('x');
    }
    let mut tail = String::new();
    writeln!(tail, "6,Fay,Gil,1940-01-01,,{big}").unwrap(); // oversized record (> 64 KiB)
    writeln!(tail, "7,Gus,Ho,1930-01-01,,ok").unwrap();
    // Put the malformed row last so the CSV reader's recovery does not hide others.
    let lines: Vec<&str> = csv.lines().collect();
    let mut text = String::new();
    for l in lines.iter().take(5) {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str(&tail);
    text.push_str(lines[5]);
    text.push('\n');
    let input = tmp.path().join("in.csv");
    std::fs::write(&input, text).unwrap();

    let out = kindred(
        &node,
        &[
            "--output",
            "json",
            "import",
            input.to_str().unwrap(),
            "--source",
            "shop",
            "--mapping",
            mapping.to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "exit 4: completed with rejected rows; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rejects = s["rejects"].as_array().unwrap();
    let text = serde_json::to_string(rejects).unwrap();
    assert!(
        text.contains("record_id"),
        "empty record id is named: {text}"
    );
    assert!(text.contains("bytes"), "oversized record is named: {text}");
    // Every good row landed: ids 1, 2, 3, 7.
    for id in ["1", "2", "3", "7"] {
        stdout_ok(&kindred(&node, &["get", &format!("shop:{id}")]));
    }
    assert_eq!(kindred(&node, &["get", "shop:6"]).status.code(), Some(3));

    // Values that cannot be standardised are kept raw and reported.
    let got: serde_json::Value = serde_json::from_str(&stdout_ok(&kindred(
        &node,
        &["--output", "json", "get", "shop:2"],
    )))
    .unwrap();
    assert_eq!(got["record"]["date_of_birth"], "31/02/1980");
    let issues = serde_json::to_string(&got["issues"]).unwrap();
    assert!(issues.contains("date_of_birth"), "{issues}");
    let got: serde_json::Value = serde_json::from_str(&stdout_ok(&kindred(
        &node,
        &["--output", "json", "get", "shop:3"],
    )))
    .unwrap();
    assert!(serde_json::to_string(&got["issues"])
        .unwrap()
        .contains("phones[0]"));
}

#[test]
fn a_mapping_with_an_unknown_field_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    let mapping = tmp.path().join("m.toml");
    std::fs::write(
        &mapping,
        "record_id = \"id\"\n[fields]\nshoe_size = \"size\"\n",
    )
    .unwrap();
    let input = tmp.path().join("in.csv");
    std::fs::write(&input, "id,size\n1,42\n").unwrap();
    let out = kindred(
        &node,
        &[
            "import",
            input.to_str().unwrap(),
            "--source",
            "s",
            "--mapping",
            mapping.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shoe_size"));
    // And a mapped column missing from the file is named too.
    std::fs::write(
        &mapping,
        "record_id = \"id\"\n[fields]\ngiven_name = \"first\"\n",
    )
    .unwrap();
    let out = kindred(
        &node,
        &[
            "import",
            input.to_str().unwrap(),
            "--source",
            "s",
            "--mapping",
            mapping.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("first"));
}

#[test]
fn invalid_single_upserts_get_invalid_argument_naming_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    let out = kindred(
        &node,
        &[
            "upsert",
            "--source",
            "crm",
            "--record-id",
            &"x".repeat(300),
            "--given-name",
            "A",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("record_id"), "{err}");
}
