//! Profiles are found by entity id, by source record, by email, by phone
//! and by typed identifier, and search ranks the right entity first; two
//! records of one person from different sources (nickname, reformatted
//! phone) resolve to one profile with a golden record.

use kindred_tests::{json, kindred, num, Node};

#[test]
fn one_person_from_two_sources_is_one_profile_found_every_way() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    let a = json(&kindred(
        &node,
        &[
            "--output",
            "json",
            "upsert",
            "--source",
            "crm",
            "--record-id",
            "c-1",
            "--given-name",
            "Robert",
            "--family-name",
            "McCarthy",
            "--dob",
            "1985-07-14",
            "--email",
            "Robert.McCarthy@Example.com",
            "--phone",
            "0412 345 678",
            "--street",
            "12 Wallaby Pl",
            "--locality",
            "Cleveland",
            "--postcode",
            "2119",
            "--country",
            "AU",
            "--id",
            "loyalty_number=LY-123-456",
            "--attr",
            "tier=gold",
        ],
    ));
    let b = json(&kindred(
        &node,
        &[
            "--output",
            "json",
            "upsert",
            "--source",
            "web",
            "--record-id",
            "w-9",
            "--given-name",
            "Bob",
            "--family-name",
            "Mccarthy",
            "--dob",
            "14/07/1985",
            "--email",
            "robert.mccarthy@example.com",
            "--phone",
            "+61 412 345 678",
        ],
    ));
    let entity = num(&a["entity_id"]).unwrap();
    assert_eq!(
        num(&b["entity_id"]).unwrap(),
        entity,
        "second record joins the first: {b}"
    );

    let by_entity = json(&kindred(
        &node,
        &[
            "--output",
            "json",
            "profile",
            "get",
            "--entity",
            &entity.to_string(),
        ],
    ));
    assert_eq!(by_entity["records"].as_array().unwrap().len(), 2);
    assert_eq!(by_entity["attributes"]["tier"], "gold");
    let golden = &by_entity["golden"];
    assert_eq!(
        golden["family_name"]["value"]
            .as_str()
            .unwrap()
            .to_lowercase(),
        "mccarthy"
    );
    assert!(golden["email"]["source_record"]["source"].is_string());
    let identities: Vec<String> = by_entity["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}={}",
                i["kind"].as_str().unwrap(),
                i["value"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        identities.contains(&"email=robert.mccarthy@example.com".to_string()),
        "{identities:?}"
    );
    assert!(
        identities.contains(&"phone=+61412345678".to_string()),
        "{identities:?}"
    );

    for args in [
        vec!["--record", "web:w-9"],
        vec!["--email", "ROBERT.MCCARTHY@example.com"],
        vec!["--phone", "(04) 1234 5678"],
        vec!["--id", "loyalty_number=ly123456"],
    ] {
        let mut full = vec!["--output", "json", "profile", "get"];
        full.extend(args.iter().copied());
        let p = json(&kindred(&node, &full));
        assert_eq!(num(&p["entity_id"]).unwrap(), entity, "lookup {args:?}");
    }

    // Not found is exit code 3 with a message.
    let missing = kindred(&node, &["profile", "get", "--email", "nobody@example.com"]);
    assert_eq!(
        missing.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );

    // A missing record is named as the caller wrote it.
    let missing = kindred(&node, &["profile", "get", "--record", "crm:nope"]);
    assert_eq!(missing.status.code(), Some(3));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("crm:nope"), "{err}");

    // Search by a partial description ranks the entity first.
    let s = json(&kindred(
        &node,
        &[
            "--output",
            "json",
            "search",
            "--given-name",
            "Rob",
            "--family-name",
            "McCarthy",
            "--dob",
            "1985-07-14",
        ],
    ));
    let first = &s["candidates"][0];
    assert_eq!(num(&first["entity_id"]).unwrap(), entity, "{s}");
    assert!(first["probability"].as_f64().unwrap() > 0.5);
}
