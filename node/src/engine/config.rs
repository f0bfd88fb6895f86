//! Engine configuration: standardisation, blocking, thresholds and merge protection.

use serde::{Deserialize, Serialize};

use super::blocking::BlockingConfig;
use super::standardize::{DateOrder, StandardizeConfig};

/// How records are standardised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StandardizeSettings {
    /// ISO 3166 alpha-2 region for phone numbers written without a country code.
    pub default_region: String,
    /// Apply provider rules to emails (gmail dots, +tags).
    pub email_provider_rules: bool,
    /// How to read ambiguous dates such as 03/04/1985: `true` day first,
    /// `false` month first; unset, as the record's country writes them
    /// (month first for the US, day first for most of the world), the
    /// country being its address's, else `default_region`.
    pub day_first: Option<bool>,
}

impl Default for StandardizeSettings {
    fn default() -> Self {
        StandardizeSettings {
            default_region: "AU".into(),
            email_provider_rules: false,
            day_first: None,
        }
    }
}

impl StandardizeSettings {
    /// The standardiser's configuration.
    pub fn to_config(&self) -> StandardizeConfig {
        StandardizeConfig {
            default_region: self.default_region.clone(),
            email_provider_rules: self.email_provider_rules,
            date_order: self.day_first.map(|d| {
                if d {
                    DateOrder::DayFirst
                } else {
                    DateOrder::MonthFirst
                }
            }),
            ..StandardizeConfig::default()
        }
    }
}

/// Everything that shapes resolution. Fixed in advance: thresholds are
/// posterior match probabilities, not tuned against any truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    pub standardize: StandardizeSettings,
    pub blocking: BlockingConfig,
    /// Pairs at or above this match probability are linked.
    pub match_probability: f64,
    /// Pairs at or above this (and below `match_probability`) are kept as
    /// possible matches for review.
    pub possible_probability: f64,
    /// No entity grows beyond this many records.
    pub max_entity_size: usize,
    /// Identifier kinds that one person has only one value of; records with
    /// different values never merge through a weak bridge.
    pub strong_identifiers: Vec<String>,
    /// Re-clustering never looks at more records than this at once.
    pub max_component: usize,
    /// Run the second phase of the canonical clustering (edges between
    /// records of different home keys, `cluster::cluster_by_home`) here.
    /// A node's partitions leave it to the cluster layer, which runs it
    /// over every partition at once; an engine used alone runs it itself.
    #[serde(skip, default = "yes")]
    pub cluster_across_home_keys: bool,
}

fn yes() -> bool {
    true
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            standardize: StandardizeSettings::default(),
            blocking: BlockingConfig::default(),
            match_probability: 0.95,
            possible_probability: 0.5,
            max_entity_size: 1000,
            strong_identifiers: [
                "national_id",
                "ssn",
                "social_security_number",
                "tax_id",
                "passport",
                "passport_number",
                "driver_license",
                "drivers_licence",
            ]
            .map(String::from)
            .to_vec(),
            max_component: 5000,
            cluster_across_home_keys: true,
        }
    }
}
