//! A lossy, slow network: with 25% of messages dropped and random delays, 50
//! proposals through random members all commit and every member converges.

use std::time::Duration;

use crate::common::{set_model, Cluster, Opts};
use kindred_node::meta::MetaReply;
use rand::{Rng, SeedableRng};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_commit_and_members_converge_through_drops_and_delays() {
    let c = Cluster::start(3, Opts::default());
    c.wait_leader(&[1, 2, 3]).await;
    c.wait_converged(&[1, 2, 3]).await;

    c.net.set_drop_rate(0.25);
    c.net.set_delay(Duration::ZERO, Duration::from_millis(30));
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for v in 1..=50 {
        let via = rng.gen_range(1..=3u64);
        let r = c.handle(via).propose(set_model(v)).await;
        assert_eq!(r.unwrap(), MetaReply::Ok, "proposal {v} via {via}");
        assert_eq!(c.state(via).model.as_ref().map(|m| m.version), Some(v));
    }
    c.net.heal();
    let state = c.wait_converged(&[1, 2, 3]).await;
    assert_eq!(state.model.map(|m| m.version), Some(50));
}
