//! Losing the leader: the other two elect a new leader with a higher term and
//! keep committing; the old leader rejoins and converges to the same state.

use std::time::Duration;

use crate::common::{set_model, within, Cluster, Opts};
use kindred_node::meta::MetaReply;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_leader_is_replaced_and_rejoins() {
    let c = Cluster::start(3, Opts::default());
    let old = c.wait_leader(&[1, 2, 3]).await;
    c.wait_converged(&[1, 2, 3]).await;
    let old_term = c.status(old).term;
    assert_eq!(
        c.handle(old).propose(set_model(1)).await.unwrap(),
        MetaReply::Ok
    );

    c.net.isolate(old);
    let rest: Vec<u64> = [1, 2, 3].into_iter().filter(|i| *i != old).collect();
    let new = c.wait_leader(&rest).await;
    assert_ne!(new, old);
    assert!(c.status(new).term > old_term);
    for v in 2..=6 {
        let via = rest[(v % 2) as usize];
        assert_eq!(
            c.handle(via).propose(set_model(v)).await.unwrap(),
            MetaReply::Ok
        );
    }
    // The isolated old leader cannot commit anything.
    let r = within(
        Duration::from_millis(1500),
        c.handle(old).propose(set_model(99)),
    )
    .await;
    assert!(!matches!(r, Some(Ok(_))), "isolated node committed: {r:?}");

    c.net.heal();
    let state = c.wait_converged(&[1, 2, 3]).await;
    assert_eq!(state.model.map(|m| m.version), Some(6));
    let leader = c.wait_leader(&[1, 2, 3]).await;
    assert!(c.status(leader).term > old_term);
}
