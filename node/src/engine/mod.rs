//! The resolution engine: turns a stream of customer records into stable
//! customer entities. Usable as a library without any server.
//!
//! The path of one record: [`standardize`] cleans its values,
//! [`features`] packs what matching needs, [`blocking`] finds candidates,
//! [`compare`] and [`model`] score each pair (Fellegi-Sunter), and
//! [`resolver`] links the record and re-clusters the component around it
//! with [`cluster`] (over a [`union_find`]). [`train`] estimates the model
//! without labels and [`review`] checks it; [`explain`] says why records matched; [`coverage`]
//! measures blocking against labelled data (evaluation only). [`hash`] is the
//! one stable 64-bit hash (FNV-1a) behind record indexes, blocking keys and
//! content hashes.

pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod config;
pub mod coverage;
pub mod explain;
pub mod features;
pub mod hash;
pub mod household;
pub mod model;
pub mod postings;
pub mod profile;
pub mod resolver;
pub mod review;
pub mod standardize;
pub mod store;
pub mod train;
pub mod union_find;

pub use config::EngineConfig;
pub use model::Model;
pub use resolver::{Action, Clock, Engine, EngineError, Outcome};
pub use store::{EntityId, MemoryStore, Store};
