//! Kindred's wire types: the `kindred.v1` protobuf package compiled with
//! prost/tonic, plus [`mapping`], which turns CSV or JSON Lines rows into
//! [`v1::Record`]s according to a TOML column mapping, and
//! [`event_mapping`], which does the same for [`v1::Event`]s,
//! [`segment_file`], which reads segment definitions written as TOML or
//! JSON; [`status`] names gRPC status codes.

pub mod event_mapping;
pub mod mapping;
pub mod segment_file;
pub mod status;

/// Generated types and services of package `kindred.v1`.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("kindred.v1");

    /// Encoded `FileDescriptorSet` for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("kindred_descriptor");
}

/// Generated types and services of package `kindred.internal.v1`: the
/// node-to-node service of a cluster (not a public API).
pub mod internal {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("kindred.internal.v1");
}
