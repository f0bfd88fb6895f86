//! A public upsert as it comes off the wire, decoded and standardised as
//! the engine does before matching: whatever the bytes, no panic.
#![no_main]

use kindred_node::engine::standardize::record::standardize_record;
use kindred_node::engine::standardize::StandardizeConfig;
use kindred_proto::v1::{BulkUpsertRequest, UpsertRequest};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    let cfg = StandardizeConfig::default();
    if let Ok(req) = UpsertRequest::decode(data) {
        if let Some(r) = req.record {
            let _ = standardize_record(&r, &cfg);
        }
    }
    if let Ok(batch) = BulkUpsertRequest::decode(data) {
        for r in batch.records.iter().take(16) {
            let _ = standardize_record(r, &cfg);
        }
    }
});
