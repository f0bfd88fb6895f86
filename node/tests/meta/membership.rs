//! Membership and ownership: a joining 4th member becomes a voter and gets the
//! state; MovePartition is compare-and-set; RemoveNode is refused while the
//! node owns partitions and accepted once they are moved away.

use crate::common::{set_model, wait_until, Cluster, Opts};
use kindred_node::meta::{MetaCommand, MetaReply, PartitionOwner};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joiner_becomes_a_voter_moves_are_compare_and_set_and_owners_cannot_be_removed() {
    let mut c = Cluster::start(3, Opts::default());
    let leader = c.wait_leader(&[1, 2, 3]).await;
    c.wait_converged(&[1, 2, 3]).await;
    let follower = [1, 2, 3].into_iter().find(|i| *i != leader).unwrap();

    // A 4th node joins.
    c.start_node(4, true);
    assert!(c.status(4).voters.is_empty());
    let add = MetaCommand::AddNode {
        id: 4,
        address: "node-4.test:7000".into(),
    };
    assert_eq!(
        c.handle(follower).propose(add.clone()).await.unwrap(),
        MetaReply::Ok
    );
    let state = c.wait_converged(&[1, 2, 3, 4]).await;
    assert_eq!(state.nodes[&4].address, "node-4.test:7000");
    wait_until("4 is a voter everywhere", || {
        [1, 2, 3, 4]
            .iter()
            .all(|i| c.status(*i).voters == vec![1, 2, 3, 4])
    })
    .await;
    let leader = c.wait_leader(&[1, 2, 3, 4]).await;
    assert!(c.status(leader).matched.contains_key(&4));
    // Adding an existing id is rejected.
    assert!(matches!(
        c.handle(1).propose(add).await.unwrap(),
        MetaReply::Rejected(_)
    ));

    // MovePartition compare-and-set.
    let p = state.partitions_of(1)[0];
    let mv = |from, to, epoch| MetaCommand::MovePartition {
        partition: p,
        from,
        to,
        expected_epoch: epoch,
    };
    assert_eq!(
        c.handle(2).propose(mv(1, 4, 1)).await.unwrap(),
        MetaReply::Ok
    );
    let s = c.state(2);
    assert_eq!(s.owner(p), Some(PartitionOwner { node: 4, epoch: 2 }));
    assert_eq!(s.map_epoch, state.map_epoch + 1);
    assert!(matches!(
        c.handle(2).propose(mv(1, 4, 1)).await.unwrap(),
        MetaReply::Rejected(_)
    ));
    assert!(matches!(
        c.handle(2).propose(mv(4, 9, 2)).await.unwrap(),
        MetaReply::Rejected(_)
    ));

    // Remove a non-leader initial member: refused while it owns partitions.
    let leader = c.wait_leader(&[1, 2, 3, 4]).await;
    let victim = [1, 2, 3].into_iter().find(|i| *i != leader).unwrap();
    let remove = MetaCommand::RemoveNode { id: victim };
    assert!(matches!(
        c.handle(4).propose(remove.clone()).await.unwrap(),
        MetaReply::Rejected(_)
    ));
    for q in c.state(4).partitions_of(victim) {
        let epoch = c.state(4).owner(q).unwrap().epoch;
        let cmd = MetaCommand::MovePartition {
            partition: q,
            from: victim,
            to: 4,
            expected_epoch: epoch,
        };
        assert_eq!(c.handle(4).propose(cmd).await.unwrap(), MetaReply::Ok);
    }
    assert!(c.state(4).partitions_of(victim).is_empty());
    assert_eq!(c.handle(4).propose(remove).await.unwrap(), MetaReply::Ok);
    let rest: Vec<u64> = [1, 2, 3, 4].into_iter().filter(|i| *i != victim).collect();
    wait_until("victim removed from the configuration", || {
        rest.iter().all(|i| !c.status(*i).voters.contains(&victim))
    })
    .await;
    c.stop_node(victim);
    // The remaining three keep committing.
    assert_eq!(
        c.handle(rest[0]).propose(set_model(3)).await.unwrap(),
        MetaReply::Ok
    );
    let state = c.wait_converged(&rest).await;
    assert!(!state.nodes.contains_key(&victim));
    assert_eq!(state.model.map(|m| m.version), Some(3));
}
