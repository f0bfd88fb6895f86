//! Table views of the API's messages (the `--output table` format).
//!
//! Each function returns the text to print: one or more tables, each under
//! a title when there are several.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use kindred_client::refs::format_ref;
use kindred_client::v1::{
    Action, ClusterChange, ClusterStatus, Decision, DeleteResponse, EntityExplanation,
    EntityHistory, GetRecordResponse, GoldenRecord, GoldenValue, ListAuditResponse,
    PairExplanation, PostalAddress, Profile, Record, ResolveResult, SearchResponse,
    StandardizationIssue, StatsResponse, TrainResponse,
};

/// A table in the CLI's style.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    // Wrap to the terminal's width only when it is known and sensible
    // (pseudo-terminals may report 0).
    if t.width().is_some_and(|w| w >= 40) {
        t.set_content_arrangement(ContentArrangement::Dynamic);
    }
    if !header.is_empty() {
        t.set_header(header.iter().copied());
    }
    t
}

/// A two-column table of labelled values.
pub fn kv_table<S: AsRef<str>>(rows: &[(S, String)]) -> Table {
    let mut t = table(&[]);
    for (k, v) in rows {
        t.add_row(vec![k.as_ref().to_string(), v.clone()]);
    }
    t
}

/// Titled sections, separated by blank lines; empty sections are skipped.
pub fn sections(parts: Vec<(&str, Option<Table>)>) -> String {
    let mut out = Vec::new();
    for (title, t) in parts {
        let Some(t) = t else { continue };
        if title.is_empty() {
            out.push(t.to_string());
        } else {
            out.push(format!("{title}\n{t}"));
        }
    }
    out.join("\n\n")
}

/// `created`, `joined`, `merged`.
pub fn action_label(action: i32) -> &'static str {
    match Action::try_from(action) {
        Ok(Action::Created) => "created",
        Ok(Action::Joined) => "joined",
        Ok(Action::Merged) => "merged",
        _ => "unspecified",
    }
}

/// `match`, `possible match`, `non-match`.
pub fn decision_label(decision: i32) -> &'static str {
    match Decision::try_from(decision) {
        Ok(Decision::Match) => "match",
        Ok(Decision::PossibleMatch) => "possible match",
        Ok(Decision::NonMatch) => "non-match",
        _ => "unspecified",
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// Comma-separated ids; `-` for none.
pub fn ids(v: &[u64]) -> String {
    if v.is_empty() {
        "-".to_string()
    } else {
        v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    }
}

/// A value, or `-` when empty.
fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_string()
    } else {
        s.to_string()
    }
}

fn prob(p: f64) -> String {
    format!("{p:.4}")
}

fn weight(w: f64) -> String {
    format!("{w:.2}")
}

/// Milliseconds since the epoch as an RFC 3339 UTC time; `-` for 0.
pub fn time_ms(ms: i64) -> String {
    if ms == 0 {
        return "-".to_string();
    }
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => ms.to_string(),
    }
}

/// An address on one line.
pub fn address(a: &PostalAddress) -> String {
    [&a.street, &a.locality, &a.region, &a.postcode, &a.country]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A record's name on one line (parts if any, else the full name).
pub fn name(r: &Record) -> String {
    let Some(n) = &r.name else {
        return String::new();
    };
    let parts: Vec<&str> = [&n.given, &n.middle, &n.family]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect();
    if parts.is_empty() {
        n.full.clone()
    } else {
        parts.join(" ")
    }
}

/// Every field of a record, as labelled rows (empty fields left out).
pub fn record_rows(r: &Record) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> =
        vec![("record".into(), format!("{}:{}", r.source, r.record_id))];
    let mut push = |k: &str, v: &str| {
        if !v.is_empty() {
            rows.push((k.to_string(), v.to_string()));
        }
    };
    if let Some(n) = &r.name {
        push("full name", &n.full);
        push("given name", &n.given);
        push("middle name", &n.middle);
        push("family name", &n.family);
    }
    push("date of birth", &r.date_of_birth);
    push("date formats", &r.date_formats.join(", "));
    push("gender", &r.gender);
    push("emails", &r.emails.join(", "));
    push("phones", &r.phones.join(", "));
    for a in &r.addresses {
        push("address", &address(a));
    }
    for i in &r.identifiers {
        push(&format!("id {}", i.kind), &i.value);
    }
    if r.observed_at_ms != 0 {
        push("observed at", &time_ms(r.observed_at_ms));
    }
    let mut attrs: Vec<_> = r.attributes.iter().collect();
    attrs.sort();
    for (k, v) in attrs {
        push(&format!("attr {k}"), v);
    }
    rows
}

fn issues_table(issues: &[StandardizationIssue]) -> Option<Table> {
    if issues.is_empty() {
        return None;
    }
    let mut t = table(&["field", "value", "reason"]);
    for i in issues {
        t.add_row(vec![i.field.clone(), i.value.clone(), i.reason.clone()]);
    }
    Some(t)
}

/// `kindred upsert`.
pub fn resolve_result(r: &ResolveResult) -> String {
    let rows = vec![
        ("record", format_ref(r.record.as_ref())),
        ("entity", r.entity_id.to_string()),
        ("action", action_label(r.action).to_string()),
        ("absorbed", ids(&r.absorbed)),
        ("replaced", yes_no(r.replaced)),
        ("possible matches", r.possible_matches.to_string()),
    ];
    sections(vec![
        ("", Some(kv_table(&rows))),
        ("Standardization issues", issues_table(&r.issues)),
    ])
}

/// `kindred delete`.
pub fn delete_response(r: &DeleteResponse) -> String {
    kv_table(&[("affected entities", ids(&r.affected_entities))]).to_string()
}

/// `kindred get`.
pub fn get_record(r: &GetRecordResponse) -> String {
    let mut rows = vec![("entity".to_string(), r.entity_id.to_string())];
    if let Some(rec) = &r.record {
        rows.extend(record_rows(rec));
    }
    sections(vec![
        ("", Some(kv_table(&rows))),
        ("Standardization issues", issues_table(&r.issues)),
    ])
}

/// The golden record's values, labelled (identifiers as `id <kind>`).
fn golden_rows(g: &GoldenRecord) -> Vec<(String, &GoldenValue)> {
    let mut rows: Vec<(String, &GoldenValue)> = [
        ("given name", &g.given_name),
        ("middle name", &g.middle_name),
        ("family name", &g.family_name),
        ("date of birth", &g.date_of_birth),
        ("gender", &g.gender),
        ("email", &g.email),
        ("phone", &g.phone),
        ("address", &g.address),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v)))
    .collect();
    let mut ids: Vec<_> = g.identifiers.iter().collect();
    ids.sort_by(|a, b| a.0.cmp(b.0));
    rows.extend(ids.into_iter().map(|(k, v)| (format!("id {k}"), v)));
    rows.retain(|(_, v)| !v.value.is_empty());
    rows
}

/// `kindred profile get`.
/// A consent status as the profile shows it.
fn consent_status(s: i32) -> &'static str {
    use kindred_client::v1::ConsentStatus as S;
    match S::try_from(s) {
        Ok(S::Granted) => "granted",
        Ok(S::Denied) => "denied",
        Ok(S::Withdrawn) => "withdrawn",
        Ok(S::Conflict) => "conflict (not granted)",
        _ => "not decided",
    }
}

/// The consent per purpose, with the records whose decision counts.
fn consent(p: &Profile) -> Option<Table> {
    (!p.consent.is_empty()).then(|| {
        let mut t = table(&["purpose", "status", "decided at (ms)", "decided by"]);
        for c in &p.consent {
            let by: Vec<String> = c
                .decided_by
                .iter()
                .map(|d| {
                    format!(
                        "{} ({})",
                        format_ref(d.record.as_ref()),
                        consent_status(d.status)
                    )
                })
                .collect();
            t.add_row(vec![
                c.purpose.clone(),
                consent_status(c.status).to_string(),
                if c.decided_at_ms > 0 {
                    c.decided_at_ms.to_string()
                } else {
                    "-".into()
                },
                or_dash(&by.join(", ")),
            ]);
        }
        t
    })
}

pub fn profile(p: &Profile) -> String {
    let summary = kv_table(&[
        ("entity", p.entity_id.to_string()),
        ("records", p.records.len().to_string()),
        ("merged ids", ids(&p.merged_ids)),
    ]);

    let golden = p.golden.as_ref().map(golden_rows).unwrap_or_default();
    let golden = (!golden.is_empty()).then(|| {
        let mut t = table(&["field", "value", "source record", "rule"]);
        for (k, v) in golden {
            t.add_row(vec![
                k,
                v.value.clone(),
                format_ref(v.source_record.as_ref()),
                or_dash(&v.rule),
            ]);
        }
        t
    });

    let identities = (!p.identities.is_empty()).then(|| {
        let mut t = table(&["kind", "value", "records"]);
        for i in &p.identities {
            let refs: Vec<String> = i.records.iter().map(|r| format_ref(Some(r))).collect();
            t.add_row(vec![i.kind.clone(), i.value.clone(), refs.join(", ")]);
        }
        t
    });

    let records = (!p.records.is_empty()).then(|| {
        let mut t = table(&[
            "record",
            "name",
            "date of birth",
            "email",
            "phone",
            "address",
        ]);
        for r in &p.records {
            t.add_row(vec![
                format!("{}:{}", r.source, r.record_id),
                or_dash(&name(r)),
                or_dash(&r.date_of_birth),
                or_dash(&r.emails.join(", ")),
                or_dash(&r.phones.join(", ")),
                or_dash(&r.addresses.first().map(address).unwrap_or_default()),
            ]);
        }
        t
    });

    let attributes = (!p.attributes.is_empty()).then(|| {
        let mut attrs: Vec<_> = p.attributes.iter().collect();
        attrs.sort();
        let mut t = table(&["attribute", "value"]);
        for (k, v) in attrs {
            t.add_row(vec![k.clone(), v.clone()]);
        }
        t
    });

    let possible = (!p.possible_matches.is_empty()).then(|| {
        let mut t = table(&["entity", "record", "other record", "probability", "weight"]);
        for m in &p.possible_matches {
            t.add_row(vec![
                m.other_entity_id.to_string(),
                format_ref(m.record.as_ref()),
                format_ref(m.other_record.as_ref()),
                prob(m.probability),
                weight(m.weight),
            ]);
        }
        t
    });

    let mut parts = vec![("", Some(summary))];
    parts.extend(super::activity::profile_sections(p));
    parts.extend([
        ("Consent", consent(p)),
        ("Golden record", golden),
        ("Identities", identities),
        ("Source records", records),
        ("Attributes", attributes),
        ("Possible matches", possible),
    ]);
    sections(parts)
}

/// `kindred search`.
pub fn search(r: &SearchResponse) -> String {
    if r.candidates.is_empty() {
        return "no candidates".to_string();
    }
    let mut t = table(&[
        "#",
        "entity",
        "probability",
        "weight",
        "best record",
        "name",
        "date of birth",
        "email",
    ]);
    for (i, c) in r.candidates.iter().enumerate() {
        let g = c.golden.clone().unwrap_or_default();
        let val = |v: &Option<GoldenValue>| v.as_ref().map(|v| v.value.clone()).unwrap_or_default();
        let name = [val(&g.given_name), val(&g.middle_name), val(&g.family_name)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        t.add_row(vec![
            (i + 1).to_string(),
            c.entity_id.to_string(),
            prob(c.probability),
            weight(c.weight),
            format_ref(c.best_record.as_ref()),
            or_dash(&name),
            or_dash(&val(&g.date_of_birth)),
            or_dash(&val(&g.email)),
        ]);
    }
    t.to_string()
}

/// `kindred why A B`.
pub fn pair(p: &PairExplanation) -> String {
    let mut comparisons = table(&["attribute", "level", "weight", "tf adjustment"]);
    for c in &p.comparisons {
        comparisons.add_row(vec![
            c.attribute.clone(),
            if c.label.is_empty() {
                c.level.to_string()
            } else {
                c.label.clone()
            },
            weight(c.weight),
            weight(c.tf_adjustment),
        ]);
    }
    let verdict = kv_table(&[
        ("prior weight", weight(p.prior_weight)),
        ("total weight", weight(p.total_weight)),
        ("probability", prob(p.probability)),
        ("match threshold", prob(p.match_threshold)),
        ("possible threshold", prob(p.possible_threshold)),
        ("decision", decision_label(p.decision).to_string()),
        ("names swapped", yes_no(p.names_swapped)),
        ("candidates", yes_no(p.candidates)),
        ("same entity", yes_no(p.same_entity)),
    ]);
    let title = format!(
        "{} vs {}",
        format_ref(p.a.as_ref()),
        format_ref(p.b.as_ref())
    );
    sections(vec![(&title, Some(comparisons)), ("", Some(verdict))])
}

/// `kindred why A --entity ID`.
pub fn entity_explanation(e: &EntityExplanation) -> String {
    let summary = kv_table(&[
        ("record", format_ref(e.record.as_ref())),
        ("entity", e.entity_id.to_string()),
        ("member", yes_no(e.member)),
    ]);
    let pairs = (!e.pairs.is_empty()).then(|| {
        let mut t = table(&["other record", "total weight", "probability", "decision"]);
        for p in &e.pairs {
            let other = if p.a == e.record { &p.b } else { &p.a };
            t.add_row(vec![
                format_ref(other.as_ref()),
                weight(p.total_weight),
                prob(p.probability),
                decision_label(p.decision).to_string(),
            ]);
        }
        t
    });
    sections(vec![("", Some(summary)), ("Pairs", pairs)])
}

/// `kindred how`.
pub fn history(h: &EntityHistory) -> String {
    let refs: Vec<String> = h.records.iter().map(|r| format_ref(Some(r))).collect();
    let summary = kv_table(&[
        ("entity", h.entity_id.to_string()),
        (
            "records",
            if refs.is_empty() {
                "-".into()
            } else {
                refs.join(", ")
            },
        ),
    ]);
    let events = (!h.events.is_empty()).then(|| {
        let mut t = table(&["step", "time", "kind", "entity", "related", "record", "via"]);
        for e in &h.events {
            let via = e.via.as_ref().map_or("-".to_string(), |v| {
                format!(
                    "{} — {} ({})",
                    format_ref(v.a.as_ref()),
                    format_ref(v.b.as_ref()),
                    weight(v.weight)
                )
            });
            t.add_row(vec![
                e.step.to_string(),
                time_ms(e.at_ms),
                e.kind.clone(),
                e.entity_id.to_string(),
                ids(&e.related_entities),
                format_ref(e.record.as_ref()),
                via,
            ]);
        }
        t
    });
    sections(vec![("", Some(summary)), ("Events", events)])
}

/// `kindred stats`.
pub fn stats(s: &StatsResponse) -> String {
    kv_table(&[
        ("records", s.records.to_string()),
        ("entities", s.entities.to_string()),
        ("merges", s.merges.to_string()),
        ("splits", s.splits.to_string()),
        ("possible matches", s.possible_matches.to_string()),
        ("match edges", s.match_edges.to_string()),
        ("comparisons", s.comparisons.to_string()),
        ("blocking keys", s.blocking_keys.to_string()),
        ("demoted keys", s.demoted_keys.to_string()),
        ("model version", s.model_version.to_string()),
        ("re-resolving", s.reresolving_records.to_string()),
        ("events", s.events.to_string()),
        ("activity bytes", bytes(s.activity_bytes)),
    ])
    .to_string()
}

/// `kindred audit list`: one row per entry, oldest first.
pub fn audit(r: &ListAuditResponse) -> String {
    let mut t = table(&[
        "time", "node", "caller", "role", "action", "from", "outcome",
    ]);
    for e in &r.entries {
        t.add_row(vec![
            time_ms(e.at_ms as i64),
            e.node.to_string(),
            e.caller.clone(),
            e.role.clone(),
            e.action.clone(),
            e.remote.clone(),
            e.outcome.clone(),
        ]);
    }
    let mut text = t.to_string();
    for u in &r.unreachable {
        text.push_str(&format!("\nnot read: {u}"));
    }
    text
}

/// `kindred train`.
pub fn train(t: &TrainResponse) -> String {
    let mut text = kv_table(&[
        ("model version", t.model_version.to_string()),
        ("records used", t.records_used.to_string()),
        ("seconds", format!("{:.2}", t.seconds)),
        ("implausible", yes_no(t.implausible)),
        ("installed", yes_no(t.installed)),
    ])
    .to_string();
    for w in &t.warnings {
        text.push_str(&format!("\nwarning: {w}"));
    }
    text
}

/// Right-aligns the cells (header included) of columns `columns`.
fn align_right(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// A byte count in binary units (`512 B`, `1.5 KiB`, `3.2 GiB`).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The one-line summary of a cluster status: who answered, the Raft
/// state, the partition map and the model.
pub fn cluster_summary(s: &ClusterStatus) -> String {
    let leader = if s.leader_id == 0 {
        "none".to_string()
    } else {
        s.leader_id.to_string()
    };
    format!(
        "node {} answering · leader {leader} · term {} · commit {} · applied {} · \
         {} partitions · map epoch {} · model version {}",
        s.node_id,
        s.term,
        s.commit_index,
        s.applied_index,
        s.partition_count,
        s.map_epoch,
        s.model_version
    )
}

/// The nodes of a cluster status, by id; the error column only when a
/// node could not be asked (its own figures are then `-`).
fn nodes_table(s: &ClusterStatus) -> Option<Table> {
    if s.nodes.is_empty() {
        return None;
    }
    let with_errors = s.nodes.iter().any(|n| !n.error.is_empty());
    let mut header = vec![
        "node",
        "address",
        "role",
        "state",
        "term",
        "commit",
        "applied",
        "lag",
        "partitions",
        "records",
    ];
    if with_errors {
        header.push("error");
    }
    let mut t = table(&header);
    let mut nodes: Vec<_> = s.nodes.iter().collect();
    nodes.sort_by_key(|n| n.node_id);
    for n in nodes {
        let known = n.error.is_empty();
        let own = |v: u64| {
            if known {
                v.to_string()
            } else {
                "-".to_string()
            }
        };
        let mut row = vec![
            n.node_id.to_string(),
            or_dash(&n.address),
            or_dash(&n.role),
            or_dash(&n.state),
            own(n.term),
            own(n.commit_index),
            own(n.applied_index),
            n.lag.to_string(),
            n.partitions.to_string(),
            own(n.records),
        ];
        if with_errors {
            row.push(or_dash(&n.error));
        }
        t.add_row(row);
    }
    align_right(&mut t, &[0, 4, 5, 6, 7, 8, 9]);
    Some(t)
}

/// The partition map of a cluster status, by partition.
fn partitions_table(s: &ClusterStatus) -> Option<Table> {
    if s.partitions.is_empty() {
        return None;
    }
    let mut t = table(&[
        "partition",
        "owner",
        "epoch",
        "state",
        "records",
        "entities",
    ]);
    let mut parts: Vec<_> = s.partitions.iter().collect();
    parts.sort_by_key(|p| p.partition);
    for p in parts {
        t.add_row(vec![
            p.partition.to_string(),
            p.owner.to_string(),
            p.epoch.to_string(),
            or_dash(&p.state),
            p.records.to_string(),
            p.entities.to_string(),
        ]);
    }
    align_right(&mut t, &[0, 1, 2, 4, 5]);
    Some(t)
}

/// `kindred cluster status`: the summary line, the nodes and the
/// partition map.
pub fn cluster_status(s: &ClusterStatus) -> String {
    let tables = sections(vec![
        ("Nodes", nodes_table(s)),
        ("Partitions", partitions_table(s)),
    ]);
    [cluster_summary(s), tables]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The changes of `kindred cluster add-node / remove-node /
/// move-partition / rebalance`: the moves made (or, for a dry run, that
/// would be made), the server's message, then the summary line and nodes.
pub fn cluster_change(c: &ClusterChange, dry_run: bool) -> String {
    let mut parts = Vec::new();
    if c.moves.is_empty() {
        parts.push(
            if dry_run {
                "no moves needed"
            } else {
                "no partitions moved"
            }
            .to_string(),
        );
    } else {
        let mut t = table(&["partition", "from → to", "bytes", "seconds"]);
        for m in &c.moves {
            t.add_row(vec![
                m.partition.to_string(),
                format!("{} → {}", m.from_node, m.to_node),
                bytes(m.bytes),
                format!("{:.1}", m.seconds),
            ]);
        }
        align_right(&mut t, &[0, 2, 3]);
        let title = if dry_run {
            "Moves that would be made"
        } else {
            "Moves"
        };
        parts.push(format!("{title}\n{t}"));
    }
    if !c.message.is_empty() {
        parts.push(c.message.clone());
    }
    if let Some(s) = &c.status {
        parts.push(cluster_summary(s));
        if let Some(t) = nodes_table(s) {
            parts.push(t.to_string());
        }
    }
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindred_client::v1::{
        AttributeComparison, HistoryEvent, Identity, NodeStatus, PartitionMove, PartitionStatus,
        PersonName, RecordRef, Relationship, SearchCandidate, Via,
    };

    fn rref(s: &str, id: &str) -> RecordRef {
        RecordRef {
            source: s.into(),
            record_id: id.into(),
        }
    }

    #[test]
    fn resolve_result_shows_action_entity_and_issues() {
        let r = ResolveResult {
            record: Some(rref("crm", "1")),
            entity_id: 42,
            action: Action::Merged as i32,
            absorbed: vec![7, 9],
            issues: vec![StandardizationIssue {
                field: "phone".into(),
                value: "12".into(),
                reason: "too short".into(),
            }],
            ..ResolveResult::default()
        };
        let text = resolve_result(&r);
        for want in [
            "crm:1",
            "42",
            "merged",
            "7, 9",
            "too short",
            "Standardization issues",
        ] {
            assert!(text.contains(want), "{want:?} missing in\n{text}");
        }
    }

    #[test]
    fn profile_shows_golden_values_with_source_and_rule() {
        let gv = |v: &str, id: &str, rule: &str| {
            Some(GoldenValue {
                value: v.into(),
                source_record: Some(rref("crm", id)),
                rule: rule.into(),
            })
        };
        let p = Profile {
            entity_id: 5,
            golden: Some(GoldenRecord {
                given_name: gv("ann", "1", "most_frequent"),
                email: gv("ann@x.com", "2", "most_recent"),
                identifiers: [(
                    "loyalty".to_string(),
                    GoldenValue {
                        value: "L9".into(),
                        source_record: Some(rref("pos", "3")),
                        rule: "source_priority".into(),
                    },
                )]
                .into(),
                ..GoldenRecord::default()
            }),
            identities: vec![Identity {
                kind: "email".into(),
                value: "ann@x.com".into(),
                records: vec![rref("crm", "2"), rref("web", "8")],
            }],
            records: vec![Record {
                source: "crm".into(),
                record_id: "1".into(),
                name: Some(PersonName {
                    given: "Ann".into(),
                    family: "Lee".into(),
                    ..PersonName::default()
                }),
                ..Record::default()
            }],
            attributes: [("tier".to_string(), "gold".to_string())].into(),
            possible_matches: vec![Relationship {
                other_entity_id: 77,
                probability: 0.5,
                ..Relationship::default()
            }],
            merged_ids: vec![11],
            ..Profile::default()
        };
        let text = profile(&p);
        for want in [
            "Golden record",
            "most_frequent",
            "crm:2",
            "id loyalty",
            "source_priority",
            "crm:2, web:8",
            "Ann Lee",
            "tier",
            "gold",
            "77",
            "0.5000",
            "11",
        ] {
            assert!(text.contains(want), "{want:?} missing in\n{text}");
        }
    }

    #[test]
    fn pair_and_entity_explanations() {
        let p = PairExplanation {
            a: Some(rref("crm", "1")),
            b: Some(rref("web", "2")),
            comparisons: vec![AttributeComparison {
                attribute: "family_name".into(),
                level: 1,
                label: "exact".into(),
                weight: 8.25,
                tf_adjustment: -0.5,
            }],
            total_weight: 12.0,
            probability: 0.99,
            decision: Decision::Match as i32,
            same_entity: true,
            ..PairExplanation::default()
        };
        let text = pair(&p);
        for want in [
            "crm:1 vs web:2",
            "family_name",
            "exact",
            "8.25",
            "-0.50",
            "match",
            "0.9900",
        ] {
            assert!(text.contains(want), "{want:?} missing in\n{text}");
        }
        let e = EntityExplanation {
            record: Some(rref("web", "2")),
            entity_id: 3,
            member: false,
            pairs: vec![PairExplanation {
                a: Some(rref("web", "2")),
                b: Some(rref("crm", "9")),
                decision: Decision::NonMatch as i32,
                ..PairExplanation::default()
            }],
        };
        let text = entity_explanation(&e);
        assert!(text.contains("crm:9") && text.contains("non-match") && text.contains("no"));
    }

    #[test]
    fn history_shows_events_with_times_and_via() {
        let h = EntityHistory {
            entity_id: 4,
            records: vec![rref("crm", "1"), rref("pos", "2")],
            events: vec![HistoryEvent {
                step: 2,
                at_ms: 1_700_000_000_000,
                entity_id: 4,
                kind: "merged".into(),
                related_entities: vec![6],
                record: Some(rref("pos", "2")),
                via: Some(Via {
                    a: Some(rref("crm", "1")),
                    b: Some(rref("pos", "2")),
                    weight: 14.5,
                }),
            }],
        };
        let text = history(&h);
        for want in [
            "2023-11-14T22:13:20.000Z",
            "merged",
            "crm:1 — pos:2 (14.50)",
            "crm:1, pos:2",
        ] {
            assert!(text.contains(want), "{want:?} missing in\n{text}");
        }
    }

    #[test]
    fn search_ranks_candidates() {
        let r = SearchResponse {
            candidates: vec![SearchCandidate {
                entity_id: 8,
                probability: 0.75,
                weight: 3.0,
                best_record: Some(rref("crm", "5")),
                golden: Some(GoldenRecord {
                    family_name: Some(GoldenValue {
                        value: "lee".into(),
                        ..GoldenValue::default()
                    }),
                    ..GoldenRecord::default()
                }),
            }],
        };
        let text = search(&r);
        assert!(text.contains("0.7500") && text.contains("crm:5") && text.contains("lee"));
        assert_eq!(search(&SearchResponse::default()), "no candidates");
    }

    fn cluster() -> ClusterStatus {
        let node = |id: u64, role: &str, records: u64, error: &str| NodeStatus {
            node_id: id,
            address: format!("kindred-{id}.kindred:7000"),
            role: role.into(),
            state: "active".into(),
            term: 7,
            commit_index: 1204,
            applied_index: 1200,
            lag: if role == "leader" { 0 } else { 3 },
            partitions: 2,
            records,
            error: error.into(),
            internal_rpcs: 0,
            raft_messages: 0,
        };
        let part = |p: u32, owner: u64, records: u64, state: &str| PartitionStatus {
            partition: p,
            owner,
            epoch: 4,
            records,
            entities: records / 2,
            state: state.into(),
        };
        ClusterStatus {
            node_id: 2,
            leader_id: 1,
            term: 7,
            commit_index: 1204,
            applied_index: 1200,
            partition_count: 4,
            map_epoch: 9,
            model_version: 3,
            // Out of order on purpose: the tables sort them.
            nodes: vec![
                node(2, "follower", 5, ""),
                node(1, "leader", 1_234_567, ""),
                node(3, "unreachable", 0, "connection refused"),
            ],
            partitions: vec![
                part(1, 2, 5, "serving"),
                part(0, 1, 1_234_560, "serving"),
                part(3, 1, 7, "moving"),
                part(2, 3, 0, "serving"),
            ],
        }
    }

    /// The lines of the table in `text` that starts at the line holding
    /// `header`, up to its bottom border.
    fn table_lines<'a>(text: &'a str, header: &str) -> Vec<&'a str> {
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains(header))
            .unwrap_or_else(|| panic!("{header:?} missing in\n{text}"));
        let top = at - 1;
        let bottom = top
            + lines[top..]
                .iter()
                .position(|l| l.starts_with('└'))
                .unwrap();
        lines[top..=bottom].to_vec()
    }

    /// Character positions of the column separators of a table row.
    fn separators(line: &str) -> Vec<usize> {
        line.chars()
            .enumerate()
            .filter(|(_, c)| matches!(c, '│' | '┆' | '╞' | '╪' | '╡' | '├' | '┼' | '┤'))
            .map(|(i, _)| i)
            .collect()
    }

    fn assert_aligned(lines: &[&str]) {
        let width = lines[0].chars().count();
        let columns = separators(lines[1]);
        for l in lines {
            assert_eq!(l.chars().count(), width, "ragged line {l:?}");
            if !l.starts_with('┌') && !l.starts_with('└') {
                assert_eq!(separators(l), columns, "misaligned line {l:?}");
            }
        }
    }

    /// The character position just after `cell` in the row holding `row`.
    fn cell_end(lines: &[&str], row: &str, cell: &str) -> usize {
        let line = lines.iter().find(|l| l.contains(row)).unwrap();
        let byte = line.find(cell).unwrap() + cell.len();
        line[..byte].chars().count()
    }

    #[test]
    fn cluster_status_has_a_summary_and_aligned_tables() {
        let text = cluster_status(&cluster());
        let first = text.lines().next().unwrap();
        for want in [
            "node 2 answering",
            "leader 1",
            "term 7",
            "commit 1204",
            "applied 1200",
            "4 partitions",
            "map epoch 9",
            "model version 3",
        ] {
            assert!(first.contains(want), "{want:?} missing in {first:?}");
        }
        assert!(
            text.contains("\nNodes\n") && text.contains("\nPartitions\n"),
            "{text}"
        );

        let nodes = table_lines(&text, "address");
        for col in [
            "node",
            "address",
            "role",
            "state",
            "term",
            "commit",
            "applied",
            "lag",
            "partitions",
            "records",
            "error",
        ] {
            assert!(nodes[1].contains(col), "{col:?} missing in {:?}", nodes[1]);
        }
        assert_aligned(&nodes);
        // Sorted by id; the unreachable node shows its error, and dashes
        // for the figures only it knows.
        let ids: Vec<usize> = ["kindred-1.", "kindred-2.", "kindred-3."]
            .iter()
            .map(|a| nodes.iter().position(|l| l.contains(a)).unwrap())
            .collect();
        assert!(ids[0] < ids[1] && ids[1] < ids[2], "{text}");
        let down = nodes.iter().find(|l| l.contains("kindred-3.")).unwrap();
        assert!(down.contains("unreachable") && down.contains("connection refused"));
        assert!(down.contains(" - "), "{down}");
        // Numbers are right-aligned.
        assert_eq!(
            cell_end(&nodes, "kindred-1.", "1234567"),
            cell_end(&nodes, "kindred-2.", " 5 ") - 1
        );

        let parts = table_lines(&text, "entities");
        assert_aligned(&parts);
        assert_eq!(parts.len(), 4 + 4, "{text}");
        let rows: Vec<&str> = parts[3..7].to_vec();
        assert!(rows[0].contains("1234560") && rows[0].contains("617280"));
        assert!(rows[3].contains("moving"), "{text}");
        assert_eq!(
            cell_end(&parts, "1234560", "1234560"),
            cell_end(&parts, "moving", " 7 ") - 1
        );
    }

    #[test]
    fn cluster_status_without_leader_or_errors() {
        let mut s = cluster();
        s.leader_id = 0;
        s.nodes.retain(|n| n.error.is_empty());
        s.partitions.clear();
        let text = cluster_status(&s);
        assert!(text.contains("leader none"), "{text}");
        assert!(!text.contains("error"), "{text}");
        assert!(!text.contains("Partitions"), "{text}");
        assert_aligned(&table_lines(&text, "address"));
    }

    #[test]
    fn cluster_change_lists_moves_message_and_short_status() {
        let c = ClusterChange {
            moves: vec![
                PartitionMove {
                    partition: 3,
                    from_node: 1,
                    to_node: 4,
                    bytes: 3 * 1024 * 1024 + 512 * 1024,
                    seconds: 12.34,
                },
                PartitionMove {
                    partition: 17,
                    from_node: 2,
                    to_node: 4,
                    bytes: 800,
                    seconds: 0.5,
                },
            ],
            message: "moved 2 partitions to node 4".into(),
            status: Some(cluster()),
        };
        let text = cluster_change(&c, false);
        assert!(text.starts_with("Moves\n"), "{text}");
        let moves = table_lines(&text, "from → to");
        assert_aligned(&moves);
        for want in ["1 → 4", "3.5 MiB", "12.3", "2 → 4", "800 B", "0.5"] {
            assert!(text.contains(want), "{want:?} missing in\n{text}");
        }
        assert_eq!(
            cell_end(&moves, "1 → 4", "3.5 MiB"),
            cell_end(&moves, "2 → 4", "800 B")
        );
        // Then the message, the summary line and the nodes, not the
        // partition map.
        let message = text.find("moved 2 partitions to node 4").unwrap();
        let summary = text.find("node 2 answering").unwrap();
        let nodes = text.find("kindred-1.kindred:7000").unwrap();
        assert!(text.find("800 B").unwrap() < message && message < summary && summary < nodes);
        assert!(!text.contains("entities"), "{text}");

        let planned = ClusterChange {
            moves: c.moves[..1].to_vec(),
            ..ClusterChange::default()
        };
        let text = cluster_change(&planned, true);
        assert!(text.starts_with("Moves that would be made\n"), "{text}");
        assert_eq!(
            cluster_change(&ClusterChange::default(), true),
            "no moves needed"
        );
        assert_eq!(
            cluster_change(&ClusterChange::default(), false),
            "no partitions moved"
        );
    }

    #[test]
    fn byte_counts_use_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn labels() {
        assert_eq!(action_label(1), "created");
        assert_eq!(action_label(2), "joined");
        assert_eq!(action_label(3), "merged");
        assert_eq!(action_label(99), "unspecified");
        assert_eq!(decision_label(2), "possible match");
        assert_eq!(time_ms(0), "-");
        assert_eq!(ids(&[]), "-");
    }
}
