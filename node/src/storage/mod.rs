//! Durable storage for a node: [`rocks::RocksStore`] implements the
//! engine's [`crate::engine::Store`] on RocksDB.

pub mod events;
pub mod keys;
pub mod membership;
pub mod purge;
pub mod rocks;
pub mod seen;
pub mod triggers;

pub use events::EventStatus;
pub use keys::AtRest;
pub use rocks::{column_families, Link, OpenedStore, RocksStore, StoreOptions};
