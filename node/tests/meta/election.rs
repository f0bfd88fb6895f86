//! Three members elect exactly one leader, the leader initialises the
//! partition map round-robin, and a proposal made on a follower is forwarded
//! to the leader and applied everywhere.

use crate::common::{address, set_model, Cluster, Opts};
use kindred_node::meta::{MetaReply, PartitionOwner};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_elect_one_leader_that_assigns_partitions_and_takes_forwarded_proposals() {
    let c = Cluster::start(3, Opts::default());
    let leader = c.wait_leader(&[1, 2, 3]).await;
    let leaders = [1, 2, 3]
        .iter()
        .filter(|i| c.status(**i).role == "leader")
        .count();
    assert_eq!(leaders, 1);

    let state = c.wait_converged(&[1, 2, 3]).await;
    assert!(state.initialized);
    assert_eq!(state.partitions, 8);
    assert_eq!(state.owners.len(), 8);
    for p in 0..8u32 {
        assert_eq!(
            state.owner(p),
            Some(PartitionOwner {
                node: [1, 2, 3][p as usize % 3],
                epoch: 1
            })
        );
    }
    assert_eq!(state.nodes.len(), 3);
    assert_eq!(state.nodes[&2].address, address(2));
    assert_eq!(state.partitions_of(1), vec![0, 3, 6]);

    // A proposal on a follower is forwarded, and visible there on return.
    let follower = [1, 2, 3].into_iter().find(|i| *i != leader).unwrap();
    let reply = c.handle(follower).propose(set_model(7)).await.unwrap();
    assert_eq!(reply, MetaReply::Ok);
    assert_eq!(c.state(follower).model.as_ref().map(|m| m.version), Some(7));
    let state = c.wait_converged(&[1, 2, 3]).await;
    assert_eq!(state.model.map(|m| m.version), Some(7));

    // propose_local on a follower reports the leader.
    match c.handle(follower).propose_local(set_model(8)).await {
        Err(kindred_node::meta::MetaError::NotLeader { leader: l }) => assert_eq!(l, Some(leader)),
        other => panic!("expected NotLeader, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_member_elects_itself_and_commits() {
    let mut c = Cluster::start(0, Opts::default());
    c.peers.clear();
    let h = c.start_node(1, false);
    assert_eq!(c.wait_leader(&[1]).await, 1);
    let state = c.wait_converged(&[1]).await;
    assert_eq!(state.partitions_of(1).len(), 8);
    assert_eq!(h.propose(set_model(1)).await.unwrap(), MetaReply::Ok);
    assert_eq!(h.state().model.as_ref().map(|m| m.version), Some(1));
}
