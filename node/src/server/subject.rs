//! Subject access: the one document `Privacy.Export` answers with,
//! gathered from the customer a person names: the profile (golden record,
//! identities, source records, traits, lifecycle, consent), every event of
//! every record, each record's consent decisions, the history and the
//! explanation of every link between two of its current records.
//!
//! Only this customer's records are read, and a link's explanation names
//! two of its own records. The history names the records the customer
//! once held by their ids (source and record id), as `kindred how` shows
//! it: a record that left may belong to another customer now (its id is
//! shown, none of its values).

use std::collections::BTreeSet;

use kindred_proto::v1 as pb;

use super::convert;
use crate::activity::{decorate, newest, Catalog, Event};
use crate::cluster::Cluster;
use crate::engine::resolver::record_key;
use crate::engine::EntityId;
use crate::error::NodeError;
use crate::partition::request::EventsWanted;
use crate::privacy::consent::record_decisions;

/// Most links explained in one export (a customer larger than this is
/// explained in part; the history still lists every link).
const MAX_EXPLAINED: usize = 500;

/// Everything held about the customer `customer`.
pub async fn export(
    cluster: &Cluster,
    customer: EntityId,
    catalog: &Catalog,
) -> Result<pb::PrivacyExportResponse, NodeError> {
    let c = &cluster.coordinator;
    let now = c.activities.now_ms();
    let (mut profile, parts) = c.reader.profile_and_parts(customer).await?;
    let mut activity = c
        .activities
        .activity_tracking(&parts, &[], EventsWanted::All, &catalog.tracked_types())
        .await?;
    decorate(&mut profile, &activity, catalog, &c.activities.cfg, now);
    let consent_decisions = record_decisions(&activity.consents)
        .iter()
        .map(|d| d.to_pb())
        .collect();
    activity.events.append(&mut activity.consents);
    // What triggers did with the customer's carts is held about them too.
    activity.events.extend(activity.settled.iter().cloned());
    let events = newest(&activity.events, usize::MAX)
        .into_iter()
        .map(|e| Event::to_pb(&e.key, &e.event_id, &e.body))
        .collect();
    let history = convert::group_history(&c.explainer.how(customer).await?);
    let links = explain_links(cluster, &profile, &history).await?;
    Ok(pb::PrivacyExportResponse {
        exported_at_ms: now,
        profile: Some(profile),
        events,
        consent_decisions,
        history: Some(history),
        links,
        segments: vec![],
    })
}

/// The explanation of every link of the history between two records the
/// customer still holds.
async fn explain_links(
    cluster: &Cluster,
    profile: &pb::Profile,
    history: &pb::EntityHistory,
) -> Result<Vec<pb::PairExplanation>, NodeError> {
    let members: BTreeSet<String> = profile
        .records
        .iter()
        .map(|r| record_key(&r.source, &r.record_id))
        .collect();
    let key = |r: &Option<pb::RecordRef>| {
        r.as_ref()
            .map(|r| record_key(&r.source, &r.record_id))
            .unwrap_or_default()
    };
    let mut pairs = BTreeSet::new();
    for via in history.events.iter().filter_map(|e| e.via.as_ref()) {
        let (a, b) = (key(&via.a), key(&via.b));
        if a != b && members.contains(&a) && members.contains(&b) {
            pairs.insert(if a < b { (a, b) } else { (b, a) });
        }
    }
    let mut out = Vec::new();
    for (a, b) in pairs.into_iter().take(MAX_EXPLAINED) {
        let p = cluster.coordinator.explainer.why_records(&a, &b).await?;
        out.push(convert::pair(&p));
    }
    Ok(out)
}
