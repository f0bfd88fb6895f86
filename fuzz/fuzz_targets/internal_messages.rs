//! Bytes arriving on the node-to-node port: partition and node requests
//! (postcard), their replies, and Raft messages (protobuf via prost). A
//! decoder may refuse them; it must never panic, hang or exhaust memory.
#![no_main]

use kindred_node::cluster::node_request::{NodeOp, NodeReply};
use kindred_node::cluster::peers::decode;
use kindred_node::partition::request::{Op, OpReply, WireError};
use libfuzzer_sys::fuzz_target;
use prost011::Message as _;

fuzz_target!(|data: &[u8]| {
    let _ = decode::<Op>(data);
    let _ = decode::<NodeOp>(data);
    let _ = decode::<Result<OpReply, WireError>>(data);
    let _ = decode::<Result<NodeReply, WireError>>(data);
    let _ = raft::eraftpb::Message::decode(data);
    let _ = raft::eraftpb::ConfChange::decode(data);
    let _ = raft::eraftpb::Snapshot::decode(data);
});
