//! Log compaction: with a small `snapshot_every`, proposals compact the log;
//! a follower isolated the whole time catches up through a snapshot and ends
//! with an identical state.

use crate::common::{set_model, wait_until, Cluster, Opts};
use kindred_node::meta::MetaReply;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_follower_catches_up_by_snapshot() {
    let opts = Opts {
        snapshot_every: 20,
        ..Opts::default()
    };
    let c = Cluster::start(3, opts);
    // Node 3 never hears from anyone (elections need at least one tick, so
    // it cannot have become leader yet).
    c.net.isolate(3);
    let leader = c.wait_leader(&[1, 2]).await;
    c.wait_converged(&[1, 2]).await;

    for v in 1..=80 {
        assert_eq!(
            c.handle(leader).propose(set_model(v)).await.unwrap(),
            MetaReply::Ok
        );
    }
    let st = c.status(leader);
    assert!(st.snapshot_index > 20, "no compaction: {st:?}");
    assert!(st.first_index > 21, "log not truncated: {st:?}");
    assert_eq!(st.first_index, st.snapshot_index + 1);
    let lagging = c.status(3);
    assert!(lagging.applied <= 1, "node 3 was not isolated: {lagging:?}");
    assert!(!c.state(3).initialized);

    c.net.heal();
    let state = c.wait_converged(&[1, 2, 3]).await;
    assert_eq!(state.model.map(|m| m.version), Some(80));
    let st3 = c.status(3);
    assert!(
        st3.snapshot_index > 20,
        "node 3 did not install a snapshot: {st3:?}"
    );
    // It keeps replicating normally after the snapshot.
    assert_eq!(
        c.handle(3).propose(set_model(81)).await.unwrap(),
        MetaReply::Ok
    );
    wait_until("all at 81", || {
        [1, 2, 3]
            .iter()
            .all(|i| c.state(*i).model.as_ref().map(|m| m.version) == Some(81))
    })
    .await;
}
