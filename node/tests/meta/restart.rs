//! Restarts: a stopped member recovers its state from disk and catches up;
//! restarting every member keeps the state.

use crate::common::{content, set_model, wait_until, Cluster, Opts};
use kindred_node::meta::MetaReply;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_members_recover_their_state_from_disk() {
    let opts = Opts {
        snapshot_every: 5,
        ..Opts::default()
    };
    let mut c = Cluster::start(3, opts);
    c.wait_leader(&[1, 2, 3]).await;
    c.wait_converged(&[1, 2, 3]).await;
    for v in 1..=8 {
        assert_eq!(
            c.handle(1).propose(set_model(v)).await.unwrap(),
            MetaReply::Ok
        );
    }
    c.wait_converged(&[1, 2, 3]).await;

    // Stop node 3 and keep committing without it.
    c.stop_node(3);
    c.wait_leader(&[1, 2]).await;
    for v in 9..=20 {
        assert_eq!(
            c.handle(1).propose(set_model(v)).await.unwrap(),
            MetaReply::Ok
        );
    }
    // Restart it cut off from the network: it recovers from its own disk.
    c.net.isolate(3);
    let h3 = c.start_node(3, false);
    wait_until("node 3 recovers from disk", || {
        h3.state().model.as_ref().map(|m| m.version) == Some(8)
    })
    .await;
    assert!(h3.state().initialized);
    c.net.heal();
    let state = c.wait_converged(&[1, 2, 3]).await;
    assert_eq!(state.model.as_ref().map(|m| m.version), Some(20));

    // Restart everyone.
    let before = content(&state);
    c.stop_all();
    for id in 1..=3 {
        c.start_node(id, false);
    }
    for id in 1..=3 {
        assert!(c.state(id).initialized, "node {id} lost its state");
    }
    c.wait_leader(&[1, 2, 3]).await;
    let after = c.wait_converged(&[1, 2, 3]).await;
    assert_eq!(content(&after), before);
    assert_eq!(
        c.handle(2).propose(set_model(21)).await.unwrap(),
        MetaReply::Ok
    );
    wait_until("all at 21", || {
        [1, 2, 3]
            .iter()
            .all(|i| c.state(*i).model.as_ref().map(|m| m.version) == Some(21))
    })
    .await;
}
