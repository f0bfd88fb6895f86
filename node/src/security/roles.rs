//! Roles and what each public RPC requires.
//!
//! One table maps every gRPC method of the public services to the
//! permission it needs; a method missing from the table needs `Admin`, so
//! a new RPC is closed until someone decides who may call it.

use serde::{Deserialize, Serialize};

/// What a caller is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Profiles, search, why/how, export, status.
    Reader,
    /// A reader that may also upsert and delete records, send events,
    /// define segments and recompute the RFM cut points.
    Writer,
    /// A writer that may also train, change the model, the traits and the
    /// cluster, and read the audit log.
    Admin,
    /// A reader that may also erase and answer subject-access requests.
    Privacy,
}

/// What one RPC needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Anyone, even without credentials (health, reflection).
    Open,
    Read,
    Write,
    Admin,
    Privacy,
}

impl Role {
    /// True if the role grants `p`.
    pub fn grants(self, p: Permission) -> bool {
        use Permission as P;
        matches!(
            (self, p),
            (_, P::Open | P::Read)
                | (Role::Writer | Role::Admin, P::Write)
                | (Role::Admin, P::Admin)
                | (Role::Privacy, P::Privacy)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
            Role::Privacy => "privacy",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reader" => Ok(Role::Reader),
            "writer" => Ok(Role::Writer),
            "admin" => Ok(Role::Admin),
            "privacy" => Ok(Role::Privacy),
            _ => Err(format!(
                "unknown role {s:?}: expected reader, writer, admin or privacy"
            )),
        }
    }
}

/// Methods by the permission they need (path `/package.Service/Method`).
const TABLE: &[(&str, Permission)] = &[
    ("/kindred.v1.Records/Upsert", Permission::Write),
    ("/kindred.v1.Records/BulkUpsert", Permission::Write),
    ("/kindred.v1.Records/Delete", Permission::Write),
    ("/kindred.v1.Records/Get", Permission::Read),
    ("/kindred.v1.Profiles/Get", Permission::Read),
    ("/kindred.v1.Profiles/Search", Permission::Read),
    ("/kindred.v1.Profiles/ExportAssignments", Permission::Read),
    ("/kindred.v1.Profiles/ExportProfiles", Permission::Read),
    ("/kindred.v1.Events/Send", Permission::Write),
    ("/kindred.v1.Events/BulkSend", Permission::Write),
    ("/kindred.v1.Events/List", Permission::Read),
    ("/kindred.v1.Traits/Define", Permission::Admin),
    ("/kindred.v1.Traits/List", Permission::Read),
    ("/kindred.v1.Traits/Delete", Permission::Admin),
    ("/kindred.v1.Traits/ComputeRfm", Permission::Write),
    ("/kindred.v1.Traits/GetRfm", Permission::Read),
    ("/kindred.v1.Explain/WhyRecords", Permission::Read),
    ("/kindred.v1.Explain/WhyEntity", Permission::Read),
    ("/kindred.v1.Explain/How", Permission::Read),
    ("/kindred.v1.Admin/Stats", Permission::Read),
    ("/kindred.v1.Admin/GetModel", Permission::Read),
    ("/kindred.v1.Admin/Train", Permission::Admin),
    ("/kindred.v1.Admin/ListAudit", Permission::Admin),
    ("/kindred.v1.Privacy/Erase", Permission::Privacy),
    ("/kindred.v1.Privacy/ListErasures", Permission::Privacy),
    ("/kindred.v1.Privacy/ListSuppressions", Permission::Privacy),
    ("/kindred.v1.Privacy/LiftSuppression", Permission::Privacy),
    ("/kindred.v1.Privacy/SetConsent", Permission::Write),
    ("/kindred.v1.Privacy/Export", Permission::Privacy),
    ("/kindred.v1.Privacy/ApplyRetention", Permission::Privacy),
    ("/kindred.v1.Segments/Create", Permission::Write),
    ("/kindred.v1.Segments/Update", Permission::Write),
    ("/kindred.v1.Segments/Delete", Permission::Write),
    ("/kindred.v1.Segments/List", Permission::Read),
    ("/kindred.v1.Segments/Get", Permission::Read),
    ("/kindred.v1.Segments/Members", Permission::Read),
    ("/kindred.v1.Segments/Export", Permission::Read),
    ("/kindred.v1.Segments/Validate", Permission::Read),
    ("/kindred.v1.Segments/Watch", Permission::Read),
    ("/kindred.v1.Triggers/Create", Permission::Write),
    ("/kindred.v1.Triggers/Update", Permission::Write),
    ("/kindred.v1.Triggers/Delete", Permission::Write),
    ("/kindred.v1.Triggers/List", Permission::Read),
    ("/kindred.v1.Cluster/Status", Permission::Read),
    ("/kindred.v1.Cluster/AddNode", Permission::Admin),
    ("/kindred.v1.Cluster/RemoveNode", Permission::Admin),
    ("/kindred.v1.Cluster/MovePartition", Permission::Admin),
    ("/kindred.v1.Cluster/Rebalance", Permission::Admin),
];

/// Services anyone may call.
const OPEN_SERVICES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// The permission a request path needs; unknown paths need `Admin`.
pub fn required(path: &str) -> Permission {
    if OPEN_SERVICES.iter().any(|s| path.starts_with(s)) {
        return Permission::Open;
    }
    TABLE
        .iter()
        .find(|(p, _)| *p == path)
        .map_or(Permission::Admin, |(_, perm)| *perm)
}

/// The name metrics use for a request path: the method itself when it is
/// one of the public API's, the service for health and reflection, and
/// "other" for anything else (so that no caller can invent label values).
pub fn method_label(path: &str) -> &'static str {
    if let Some(s) = OPEN_SERVICES.iter().find(|s| path.starts_with(*s)) {
        return s;
    }
    TABLE
        .iter()
        .find(|(p, _)| *p == path)
        .map_or("other", |(p, _)| p)
}

/// True if calls to this path are written to the audit log even when
/// they succeed (admin and privacy actions).
pub fn audited(path: &str) -> bool {
    matches!(required(path), Permission::Admin | Permission::Privacy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_cumulative_except_privacy() {
        assert!(Role::Writer.grants(Permission::Read));
        assert!(!Role::Reader.grants(Permission::Write));
        assert!(Role::Admin.grants(Permission::Write));
        assert!(!Role::Admin.grants(Permission::Privacy));
        assert!(Role::Privacy.grants(Permission::Privacy));
        assert!(!Role::Privacy.grants(Permission::Write));
    }

    /// Every method of the public API has been given a permission on
    /// purpose: a new RPC must be added to the table.
    #[test]
    fn every_public_method_is_in_the_table() {
        use prost::Message;
        let set =
            prost_types::FileDescriptorSet::decode(kindred_proto::v1::FILE_DESCRIPTOR_SET).unwrap();
        let mut seen = 0;
        for file in set.file.iter().filter(|f| f.package() == "kindred.v1") {
            for svc in &file.service {
                for m in &svc.method {
                    let path = format!("/kindred.v1.{}/{}", svc.name(), m.name());
                    assert!(
                        TABLE.iter().any(|(p, _)| *p == path),
                        "{path} has no permission"
                    );
                    seen += 1;
                }
            }
        }
        assert_eq!(
            seen,
            TABLE.len(),
            "the table names methods that do not exist"
        );
    }

    #[test]
    fn unknown_methods_need_admin_and_health_is_open() {
        assert_eq!(required("/kindred.v1.Records/Nope"), Permission::Admin);
        assert_eq!(required("/grpc.health.v1.Health/Check"), Permission::Open);
        assert_eq!(required("/kindred.v1.Records/Get"), Permission::Read);
        assert!(audited("/kindred.v1.Admin/Train"));
        assert!(!audited("/kindred.v1.Records/Upsert"));
    }
}
