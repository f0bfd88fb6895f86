//! Node configuration: command-line flags, each also a `KINDRED_*`
//! environment variable, plus an optional TOML file for everything else
//! (thresholds, standardisation, blocking, survivorship, limits).
//! Precedence: flag or environment variable, then the file, then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::{Deserialize, Serialize};

use crate::engine::profile::Survivorship;
use crate::engine::EngineConfig;
use crate::security::roles::Role;
use crate::security::settings::{AuditConfig, AuthConfig, InternalTls, PublicTls};

/// `kindred-node` command line.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "kindred-node",
    version,
    about = "Kindred node: real-time entity resolution over gRPC"
)]
pub struct Args {
    /// Directory for the node's RocksDB data.
    #[arg(long, env = "KINDRED_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to serve gRPC on.
    #[arg(long, env = "KINDRED_LISTEN")]
    pub listen: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "KINDRED_CONFIG")]
    pub config: Option<PathBuf>,
    /// Model file (JSON) to use instead of the stored or default model.
    #[arg(long, env = "KINDRED_MODEL")]
    pub model: Option<PathBuf>,
    /// Link threshold as a match probability.
    #[arg(long, env = "KINDRED_MATCH_PROBABILITY")]
    pub match_probability: Option<f64>,
    /// Possible-match threshold as a match probability.
    #[arg(long, env = "KINDRED_POSSIBLE_PROBABILITY")]
    pub possible_probability: Option<f64>,
    /// Default region for phone numbers without a country code (ISO alpha-2).
    #[arg(long, env = "KINDRED_DEFAULT_REGION")]
    pub default_region: Option<String>,
    /// fsync every group commit (`--sync`, or `--sync false` to override
    /// the file).
    #[arg(long, env = "KINDRED_SYNC", num_args = 0..=1, default_missing_value = "true")]
    pub sync: Option<bool>,
    /// This node's id in the cluster (default 1).
    #[arg(long, env = "KINDRED_NODE_ID")]
    pub node_id: Option<u64>,
    /// Bootstrap members: ID=HOST:PORT,... of their node-to-node
    /// (--internal-listen) addresses; host names may resolve later.
    /// Without it the node is a one-node cluster.
    #[arg(long, env = "KINDRED_PEERS")]
    pub peers: Option<String>,
    /// Start empty and wait to be added to an existing cluster
    /// (`kindred cluster add-node`).
    #[arg(long, env = "KINDRED_JOIN")]
    pub join: bool,
    /// Virtual partitions of a new cluster (fixed once created). Default: 1
    /// for a standalone node, 8 when --peers is given.
    #[arg(long, env = "KINDRED_PARTITIONS")]
    pub partitions: Option<u32>,
    /// The address other nodes reach this one's node-to-node service at
    /// (default: its entry in --peers, else --internal-listen).
    #[arg(long, env = "KINDRED_ADVERTISE")]
    pub advertise: Option<String>,
    /// Address to serve the node-to-node service on (default: the --listen
    /// host, port + 1). Only other Kindred nodes need to reach it.
    #[arg(long, env = "KINDRED_INTERNAL_LISTEN")]
    pub internal_listen: Option<String>,
    /// Address of a plaintext listener serving only grpc.health.v1 (for
    /// Kubernetes probes, which cannot speak TLS). Unset: none.
    #[arg(long, env = "KINDRED_HEALTH_LISTEN")]
    pub health_listen: Option<String>,
    /// OTLP/gRPC endpoint to export OpenTelemetry traces to, plaintext (for
    /// example http://127.0.0.1:4317, a collector beside the node). Unset:
    /// no traces.
    #[arg(long, env = "KINDRED_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Address of a plaintext HTTP listener serving Prometheus metrics at
    /// /metrics (counts and latencies only, nothing personal). Unset: none.
    #[arg(long, env = "KINDRED_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// PEM certificate of the public listener (with --tls-key: TLS on).
    #[arg(long, env = "KINDRED_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "KINDRED_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA whose client certificates the public listener accepts.
    #[arg(long, env = "KINDRED_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,
    /// PEM certificate of this node for node-to-node mutual TLS.
    #[arg(long, env = "KINDRED_INTERNAL_TLS_CERT")]
    pub internal_tls_cert: Option<PathBuf>,
    /// PEM private key of --internal-tls-cert.
    #[arg(long, env = "KINDRED_INTERNAL_TLS_KEY")]
    pub internal_tls_key: Option<PathBuf>,
    /// PEM cluster CA that every node's certificate must chain to.
    #[arg(long, env = "KINDRED_INTERNAL_CA")]
    pub internal_ca: Option<PathBuf>,
    /// Certificate names (CN or DNS SAN) a peer node may present, comma-separated.
    #[arg(long, env = "KINDRED_INTERNAL_ALLOWED_NAMES", value_delimiter = ',')]
    pub internal_allowed_names: Option<Vec<String>>,
    /// File of `NAME ROLE SHA256` token lines (`kindred-node token` makes one).
    #[arg(long, env = "KINDRED_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,
    /// Role of callers without credentials (default: none, except on an
    /// unconfigured loopback-only node).
    #[arg(long, env = "KINDRED_ANONYMOUS_ROLE", value_enum)]
    pub anonymous_role: Option<Role>,
    /// Days the audit log keeps its entries.
    #[arg(long, env = "KINDRED_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u32>,
    /// Allow plaintext node-to-node traffic on a non-loopback address.
    #[arg(long, env = "KINDRED_ALLOW_PLAINTEXT_INTERNAL")]
    pub allow_plaintext_internal: bool,
    /// The master key file (`kindred-node keys generate`); the same on every
    /// node of a cluster. A standalone node without one creates
    /// `DATA/master.key` on first start.
    #[arg(long, env = "KINDRED_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Keep personal data in plaintext on disk: only for measuring what
    /// encryption at rest costs.
    #[arg(long, env = "KINDRED_PLAINTEXT_AT_REST", hide = true)]
    pub plaintext_at_rest: bool,
    /// Log format: human-readable text, or one JSON object per line.
    #[arg(long, env = "KINDRED_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub tool: Option<Tool>,
}

/// Helpers run instead of serving.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Tool {
    /// Prints a new random bearer token and the line that grants it a role
    /// (for --tokens-file or a Kubernetes Secret).
    Token {
        /// Who holds the token (written to the audit log).
        #[arg(long)]
        name: String,
        /// The role the token grants.
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Writes a development CA and certificates signed by it (ca.pem,
    /// NAME.pem, NAME-key.pem) for trying TLS on a laptop or in tests.
    DevCerts {
        /// Directory to write into.
        #[arg(long)]
        out: PathBuf,
        /// Certificate names (also DNS SANs), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        names: Vec<String>,
    },
    /// Master key files: create one, or rotate one.
    #[command(subcommand)]
    Keys(KeysTool),
}

/// `kindred-node keys ...`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum KeysTool {
    /// Writes a new master key file (readable by its owner only).
    Generate {
        /// Where to write it (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes a copy of a key file with a new first master key; nodes
    /// started with it re-wrap every data key under the new key, after
    /// which the old key lines can be deleted.
    Rotate {
        /// The key file in use.
        #[arg(long)]
        from: PathBuf,
        /// Where to write the rotated file (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

/// How the node writes its log.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Size limits on input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest encoded record accepted.
    pub max_record_bytes: usize,
    /// Largest gRPC message accepted.
    pub max_message_bytes: usize,
    /// Most records in one bulk batch.
    pub max_batch_records: usize,
}

impl Limits {
    /// Refuses one input message (a record, an event) over
    /// `max_record_bytes`, naming it.
    pub fn check_item(
        &self,
        msg: &impl prost::Message,
        what: impl FnOnce() -> String,
    ) -> Result<(), crate::error::NodeError> {
        let (size, limit) = (msg.encoded_len(), self.max_record_bytes);
        if size > limit {
            return Err(crate::error::NodeError::TooLarge {
                what: what(),
                size,
                limit,
            });
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: 64 * 1024,
            max_message_bytes: 16 * 1024 * 1024,
            max_batch_records: 10_000,
        }
    }
}

/// The node's whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    pub data_dir: PathBuf,
    pub listen: String,
    pub model: Option<PathBuf>,
    pub sync: bool,
    pub block_cache_mb: usize,
    pub mailbox: usize,
    pub engine: EngineConfig,
    pub survivorship: Survivorship,
    pub limits: Limits,
    /// Events, traits, lifecycle and RFM.
    pub activity: crate::activity::ActivityConfig,
    /// Webhook sinks of the change feed (`[[webhooks]]`).
    pub webhooks: Vec<crate::webhooks::WebhookConfig>,
    pub cluster: ClusterConfig,
    /// Node-to-node listener (empty: the listen host, port + 1).
    pub internal_listen: String,
    /// Plaintext health-only listener (empty: none).
    pub health_listen: String,
    /// Plaintext Prometheus metrics listener (empty: none).
    pub metrics_listen: String,
    /// OTLP/gRPC endpoint for traces (empty: none).
    pub otlp_endpoint: String,
    pub tls: PublicTls,
    pub internal_tls: InternalTls,
    pub auth: AuthConfig,
    pub audit: AuditConfig,
    /// Allow plaintext node-to-node traffic on a non-loopback address.
    pub allow_plaintext_internal: bool,
    /// The master key file (none: `DATA/master.key`, standalone nodes only).
    pub master_key_file: Option<PathBuf>,
    /// Personal data in plaintext on disk (benchmarks only).
    pub plaintext_at_rest: bool,
    /// Consent purposes and retention.
    pub privacy: crate::privacy::PrivacyConfig,
}

/// Cluster membership settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    pub node_id: u64,
    /// Bootstrap members, id → host:port. Empty: a one-node cluster.
    pub peers: std::collections::BTreeMap<u64, String>,
    pub join: bool,
    /// 0: 1 for a standalone node, 8 with peers.
    pub partitions: u32,
    /// Address other nodes use for this one (empty: the listen address).
    pub advertise: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            node_id: 1,
            peers: Default::default(),
            join: false,
            partitions: 0,
            advertise: String::new(),
        }
    }
}

impl ClusterConfig {
    /// The number of partitions a new cluster gets.
    pub fn partition_count(&self) -> u32 {
        match self.partitions {
            0 if self.peers.len() > 1 || self.join => 8,
            0 => 1,
            n => n,
        }
    }
}

/// Parses `ID=HOST:PORT,...`.
pub fn parse_peers(s: &str) -> Result<std::collections::BTreeMap<u64, String>, ConfigError> {
    let mut out = std::collections::BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = |reason: &str| ConfigError::Invalid {
            setting: "peers",
            value: part.to_string(),
            reason: reason.to_string(),
        };
        let (id, addr) = part
            .split_once('=')
            .ok_or_else(|| bad("expected ID=HOST:PORT"))?;
        let id: u64 = id
            .trim()
            .parse()
            .map_err(|_| bad("the node id must be a positive integer"))?;
        if id == 0 {
            return Err(bad("node id 0 is reserved"));
        }
        let addr = addr.trim();
        if addr
            .rsplit_once(':')
            .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
        {
            return Err(bad("the address must be HOST:PORT"));
        }
        if out.insert(id, addr.to_string()).is_some() {
            return Err(bad("node id listed twice"));
        }
    }
    Ok(out)
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            data_dir: PathBuf::from("kindred-data"),
            listen: "127.0.0.1:7000".into(),
            model: None,
            sync: false,
            block_cache_mb: 256,
            mailbox: 64,
            engine: EngineConfig::default(),
            survivorship: Survivorship::default(),
            limits: Limits::default(),
            activity: crate::activity::ActivityConfig::default(),
            webhooks: vec![],
            cluster: ClusterConfig::default(),
            internal_listen: String::new(),
            health_listen: String::new(),
            metrics_listen: String::new(),
            otlp_endpoint: String::new(),
            tls: PublicTls::default(),
            internal_tls: InternalTls::default(),
            auth: AuthConfig::default(),
            audit: AuditConfig::default(),
            allow_plaintext_internal: false,
            master_key_file: None,
            plaintext_at_rest: false,
            privacy: Default::default(),
        }
    }
}

/// Configuration errors, naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("config file {path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("{setting} = {value:?}: {reason}")]
    Invalid {
        setting: &'static str,
        value: String,
        reason: String,
    },
}

impl NodeConfig {
    /// Builds the configuration from flags, environment and file.
    pub fn from_args(args: &Args) -> Result<Self, ConfigError> {
        let mut cfg = match &args.config {
            Some(p) => Self::from_file(p)?,
            None => NodeConfig::default(),
        };
        if let Some(d) = &args.data_dir {
            cfg.data_dir = d.clone();
        }
        if let Some(l) = &args.listen {
            cfg.listen = l.clone();
        }
        if let Some(m) = &args.model {
            cfg.model = Some(m.clone());
        }
        if let Some(p) = args.match_probability {
            cfg.engine.match_probability = p;
        }
        if let Some(p) = args.possible_probability {
            cfg.engine.possible_probability = p;
        }
        if let Some(r) = &args.default_region {
            cfg.engine.standardize.default_region = r.to_uppercase();
        }
        if let Some(s) = args.sync {
            cfg.sync = s;
        }
        if let Some(id) = args.node_id {
            cfg.cluster.node_id = id;
        }
        if let Some(p) = &args.peers {
            cfg.cluster.peers = parse_peers(p)?;
        }
        if args.join {
            cfg.cluster.join = true;
        }
        if let Some(n) = args.partitions {
            cfg.cluster.partitions = n;
        }
        if let Some(a) = &args.advertise {
            cfg.cluster.advertise = a.clone();
        }
        cfg.apply_security_args(args);
        cfg.finish();
        cfg.validate()?;
        Ok(cfg)
    }

    /// Hands settings of one section to the parts that use them: the
    /// consent purposes to the event rules.
    pub fn finish(&mut self) {
        self.activity
            .events
            .consent_purposes
            .clone_from(&self.privacy.purposes);
    }

    /// Applies the TLS, credential and audit flags.
    fn apply_security_args(&mut self, args: &Args) {
        let set = |slot: &mut Option<PathBuf>, v: &Option<PathBuf>| {
            if v.is_some() {
                slot.clone_from(v);
            }
        };
        if let Some(l) = &args.internal_listen {
            self.internal_listen = l.clone();
        }
        if let Some(l) = &args.health_listen {
            self.health_listen = l.clone();
        }
        if let Some(l) = &args.metrics_listen {
            self.metrics_listen = l.clone();
        }
        if let Some(e) = &args.otlp_endpoint {
            self.otlp_endpoint = e.clone();
        }
        set(&mut self.master_key_file, &args.master_key_file);
        self.plaintext_at_rest |= args.plaintext_at_rest;
        set(&mut self.tls.cert, &args.tls_cert);
        set(&mut self.tls.key, &args.tls_key);
        set(&mut self.tls.client_ca, &args.tls_client_ca);
        set(&mut self.internal_tls.cert, &args.internal_tls_cert);
        set(&mut self.internal_tls.key, &args.internal_tls_key);
        set(&mut self.internal_tls.ca, &args.internal_ca);
        if let Some(n) = &args.internal_allowed_names {
            self.internal_tls.allowed_names = n.clone();
        }
        set(&mut self.auth.tokens_file, &args.tokens_file);
        if args.anonymous_role.is_some() {
            self.auth.anonymous_role = args.anonymous_role;
        }
        if let Some(d) = args.audit_retention_days {
            self.audit.retention_days = d;
        }
        self.allow_plaintext_internal |= args.allow_plaintext_internal;
    }

    /// Reads a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.into(),
            reason: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            reason: e.to_string(),
        })
    }

    /// Checks values that would otherwise fail later or silently misbehave.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let prob = |setting: &'static str, v: f64| {
            if v > 0.0 && v < 1.0 {
                Ok(())
            } else {
                Err(ConfigError::Invalid {
                    setting,
                    value: v.to_string(),
                    reason: "must be a probability strictly between 0 and 1".into(),
                })
            }
        };
        prob("match_probability", self.engine.match_probability)?;
        prob("possible_probability", self.engine.possible_probability)?;
        if self.engine.possible_probability > self.engine.match_probability {
            return Err(ConfigError::Invalid {
                setting: "possible_probability",
                value: self.engine.possible_probability.to_string(),
                reason: "must not exceed match_probability".into(),
            });
        }
        let c = &self.cluster;
        if c.node_id == 0 {
            return Err(ConfigError::Invalid {
                setting: "node_id",
                value: "0".into(),
                reason: "must be a positive integer".into(),
            });
        }
        if !c.peers.is_empty() && !c.join && !c.peers.contains_key(&c.node_id) {
            return Err(ConfigError::Invalid {
                setting: "peers",
                value: format!("{:?}", c.peers.keys().collect::<Vec<_>>()),
                reason: format!("must include this node's id {}", c.node_id),
            });
        }
        if c.partitions > 4096 {
            return Err(ConfigError::Invalid {
                setting: "partitions",
                value: c.partitions.to_string(),
                reason: "must be at most 4096".into(),
            });
        }
        if let Err(e) = self.activity.validate() {
            let (field, value) = e.field_value();
            return Err(ConfigError::Invalid {
                setting: "activity",
                value: format!("{field} = {value}"),
                reason: e.to_string(),
            });
        }
        if let Err((setting, value, reason)) = crate::webhooks::validate_all(&self.webhooks) {
            return Err(ConfigError::Invalid {
                setting,
                value,
                reason,
            });
        }
        if let Err((value, reason)) = self.privacy.validate() {
            return Err(ConfigError::Invalid {
                setting: "privacy",
                value,
                reason,
            });
        }
        if self.activity.events.consent_purposes != self.privacy.purposes {
            return Err(ConfigError::Invalid {
                setting: "privacy.purposes",
                value: self.privacy.purposes.join(","),
                reason: "the event rules were not given the purposes (NodeConfig::finish)".into(),
            });
        }
        if self.listen_addr().is_err() {
            return Err(ConfigError::Invalid {
                setting: "listen",
                value: self.listen.clone(),
                reason: "must be HOST:PORT with a numeric IP host".into(),
            });
        }
        self.validate_security()
    }

    /// Checks the listeners' TLS and the internal listener's exposure.
    fn validate_security(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &'static str, value: String, reason: &str| ConfigError::Invalid {
            setting,
            value,
            reason: reason.into(),
        };
        let internal = self.internal_listen_addr().map_err(|_| {
            invalid(
                "internal_listen",
                self.internal_listen.clone(),
                "must be HOST:PORT with a numeric IP host",
            )
        })?;
        if self.listen_addr().ok() == Some(internal) {
            return Err(invalid(
                "internal_listen",
                internal.to_string(),
                "must differ from listen: the node-to-node service has its own port",
            ));
        }
        // The optional plaintext listeners (empty: none).
        for (setting, addr) in [
            ("health_listen", &self.health_listen),
            ("metrics_listen", &self.metrics_listen),
        ] {
            if !addr.is_empty() && addr.parse::<SocketAddr>().is_err() {
                return Err(invalid(
                    setting,
                    addr.clone(),
                    "must be HOST:PORT with a numeric IP host",
                ));
            }
        }
        let e = &self.otlp_endpoint;
        if !(e.is_empty() || e.starts_with("http://")) {
            return Err(invalid(
                "otlp_endpoint",
                e.clone(),
                "must be an http:// URL (plaintext OTLP/gRPC, to a collector on the \
                 node or in the pod: TLS to the collector is not supported)",
            ));
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(invalid(
                "tls",
                "cert/key".into(),
                "give both a certificate and its key",
            ));
        }
        let it = &self.internal_tls;
        if it.cert.is_some() != it.key.is_some() {
            return Err(invalid(
                "internal_tls",
                "cert/key".into(),
                "give both a certificate and its key",
            ));
        }
        if it.enabled() && (it.ca.is_none() || it.allowed_names.is_empty()) {
            return Err(invalid(
                "internal_tls",
                format!("ca={:?} allowed_names={:?}", it.ca, it.allowed_names),
                "mutual TLS needs the cluster CA and the names peers may present",
            ));
        }
        let several = self.cluster.join || self.cluster.peers.len() > 1;
        if several && self.master_key_file.is_none() && !self.plaintext_at_rest {
            return Err(invalid(
                "master_key_file",
                String::new(),
                "every node of a cluster needs the same master key file \
                 (kindred-node keys generate --out FILE; mount it on every node)",
            ));
        }
        if !it.enabled() && !internal.ip().is_loopback() && !self.allow_plaintext_internal {
            return Err(invalid(
                "internal_listen",
                internal.to_string(),
                "node-to-node traffic on a reachable address needs internal_tls \
                 (or allow_plaintext_internal = true on a trusted network)",
            ));
        }
        Ok(())
    }

    /// The socket address of the node-to-node service.
    pub fn internal_listen_addr(&self) -> Result<SocketAddr, std::net::AddrParseError> {
        if !self.internal_listen.is_empty() {
            return self.internal_listen.parse();
        }
        let mut a = self.listen_addr()?;
        a.set_port(a.port().wrapping_add(1));
        Ok(a)
    }

    /// The address other nodes reach this node's internal service at.
    pub fn advertise(&self) -> String {
        if !self.cluster.advertise.is_empty() {
            return self.cluster.advertise.clone();
        }
        self.cluster
            .peers
            .get(&self.cluster.node_id)
            .cloned()
            .or_else(|| self.internal_listen_addr().ok().map(|a| a.to_string()))
            .unwrap_or_default()
    }

    /// The socket address to listen on.
    pub fn listen_addr(&self) -> Result<SocketAddr, std::net::AddrParseError> {
        self.listen.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_accept_host_names_and_ip_addresses() {
        let p = parse_peers("1=kindred-0.kindred.default.svc:7000, 2=127.0.0.1:7002").unwrap();
        assert_eq!(p[&1], "kindred-0.kindred.default.svc:7000");
        assert_eq!(p[&2], "127.0.0.1:7002");
    }

    #[test]
    fn bad_peer_lists_name_the_entry() {
        for (bad, why) in [
            ("1=host", "HOST:PORT"),
            ("x=h:1", "positive integer"),
            ("0=h:1", "reserved"),
            ("1=a:1,1=b:2", "twice"),
            ("1=h:99999", "HOST:PORT"),
        ] {
            let e = parse_peers(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn peers_must_include_this_node_unless_joining() {
        let mut cfg = NodeConfig::default();
        cfg.cluster.node_id = 3;
        cfg.cluster.peers = parse_peers("1=a:1,2=b:2").unwrap();
        assert!(cfg.validate().is_err());
        cfg.cluster.join = true;
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("master key file"), "{e}");
        cfg.master_key_file = Some("/keys/master.key".into());
        assert!(cfg.validate().is_ok());
        assert_eq!(cfg.cluster.partition_count(), 8);
        assert_eq!(NodeConfig::default().cluster.partition_count(), 1);
    }

    #[test]
    fn every_flag_has_its_own_description() {
        use clap::CommandFactory;
        let cmd = Args::command();
        let mut seen = std::collections::HashMap::new();
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(!help.trim().is_empty(), "--{id} has no description");
            if let Some(other) = seen.insert(help.clone(), id.to_string()) {
                panic!("--{id} and --{other} share the description {help:?}");
            }
        }
        let node_id = cmd
            .get_arguments()
            .find(|a| a.get_id() == "node_id")
            .and_then(|a| a.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(node_id.starts_with("This node's id"), "{node_id}");
    }

    #[test]
    fn metrics_and_trace_endpoints_are_checked_naming_the_setting() {
        let cfg = |flags: &[&str]| {
            let mut argv = vec!["kindred-node"];
            argv.extend_from_slice(flags);
            NodeConfig::from_args(&Args::try_parse_from(argv).unwrap())
        };
        let e = cfg(&["--metrics-listen", "localhost:9000"]).unwrap_err();
        assert!(e.to_string().contains("metrics_listen"), "{e}");
        let e = cfg(&["--otlp-endpoint", "collector:4317"]).unwrap_err();
        assert!(e.to_string().contains("otlp_endpoint"), "{e}");
        let e = cfg(&["--otlp-endpoint", "https://collector:4317"]).unwrap_err();
        assert!(e.to_string().contains("TLS"), "{e}");
        let ok = cfg(&[
            "--metrics-listen",
            "127.0.0.1:9000",
            "--otlp-endpoint",
            "http://collector:4317",
        ])
        .unwrap();
        assert_eq!(ok.metrics_listen, "127.0.0.1:9000");
        assert_eq!(ok.otlp_endpoint, "http://collector:4317");
    }

    #[test]
    fn an_unknown_log_format_is_refused_naming_the_choices() {
        let e = Args::try_parse_from(["kindred-node", "--log-format", "xml"]).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("xml") && msg.contains("text") && msg.contains("json"),
            "{msg}"
        );
        let ok = Args::try_parse_from(["kindred-node", "--log-format", "json"]).unwrap();
        assert_eq!(ok.log_format, LogFormat::Json);
    }

    #[test]
    fn sync_is_a_flag_that_also_takes_a_value() {
        let on = Args::try_parse_from(["kindred-node", "--sync"]).unwrap();
        assert_eq!(on.sync, Some(true));
        let off = Args::try_parse_from(["kindred-node", "--sync", "false"]).unwrap();
        assert_eq!(off.sync, Some(false));
        let unset = Args::try_parse_from(["kindred-node"]).unwrap();
        assert_eq!(unset.sync, None);
    }
}
