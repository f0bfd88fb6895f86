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
    /// fsync every group commit.
    #[arg(long, env = "KINDRED_SYNC")]
    pub sync: Option<bool>,
    /// Log format: text or json.
    #[arg(long, env = "KINDRED_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
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
        cfg.validate()?;
        Ok(cfg)
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
        if self.listen_addr().is_err() {
            return Err(ConfigError::Invalid {
                setting: "listen",
                value: self.listen.clone(),
                reason: "must be HOST:PORT with a numeric IP host".into(),
            });
        }
        Ok(())
    }

    /// The socket address to listen on.
    pub fn listen_addr(&self) -> Result<SocketAddr, std::net::AddrParseError> {
        self.listen.parse()
    }
}
