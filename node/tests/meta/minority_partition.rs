//! A network partition: the minority side (holding the old leader) cannot
//! commit, the majority elects a leader and commits; after healing every
//! member has the same state and nothing proposed on the minority survives.

use std::time::Duration;

use crate::common::{set_model, within, Cluster, Opts};
use kindred_node::meta::MetaReply;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minority_cannot_commit_majority_can() {
    let all = [1, 2, 3, 4, 5];
    let c = Cluster::start(5, Opts::default());
    let leader = c.wait_leader(&all).await;
    c.wait_converged(&all).await;

    let buddy = all.into_iter().find(|i| *i != leader).unwrap();
    let minority = [leader, buddy];
    let majority: Vec<u64> = all.into_iter().filter(|i| !minority.contains(i)).collect();
    c.net.partition(&[&minority, &majority]);

    // Minority: both through the (old) leader and through the follower.
    let (hl, hb) = (c.handle(leader), c.handle(buddy));
    let a = within(Duration::from_secs(2), hl.propose(set_model(100)));
    let b = within(Duration::from_secs(2), hb.propose(set_model(101)));
    let (a, b) = tokio::join!(a, b);
    assert!(
        !matches!(a, Some(Ok(_))),
        "minority leader committed: {a:?}"
    );
    assert!(
        !matches!(b, Some(Ok(_))),
        "minority follower committed: {b:?}"
    );

    // Majority elects its own leader and commits.
    let new = c.wait_leader(&majority).await;
    assert!(!minority.contains(&new));
    for v in 1..=5 {
        let via = majority[v as usize % majority.len()];
        assert_eq!(
            c.handle(via).propose(set_model(v)).await.unwrap(),
            MetaReply::Ok
        );
    }
    for id in minority {
        let m = c.state(id).model.clone();
        assert!(m.is_none(), "minority member {id} applied {m:?}");
    }

    c.net.heal();
    let state = c.wait_converged(&all).await;
    assert_eq!(state.model.map(|m| m.version), Some(5));
    c.wait_leader(&all).await;
}
