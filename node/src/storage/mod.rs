//! Durable storage for a node: [`rocks::RocksStore`] implements the
//! engine's [`crate::engine::Store`] on RocksDB.

pub mod rocks;

pub use rocks::{Link, OpenedStore, RocksStore, StoreOptions};
