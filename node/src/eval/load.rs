//! Loading CSV / JSON Lines files through a column mapping, and truth files.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use kindred_proto::mapping::{header_index, Mapping};
use kindred_proto::v1::Record;

/// A row that could not be read, with its 1-based line number.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// Reads every row of a CSV (or `.jsonl`) file into records.
pub fn load_records(
    path: &Path,
    mapping: &Mapping,
    source: &str,
) -> Result<(Vec<Record>, Vec<Rejected>)> {
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    if path
        .extension()
        .is_some_and(|e| e == "jsonl" || e == "ndjson")
    {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let res = serde_json::from_str::<serde_json::Value>(line)
                .map_err(|e| e.to_string())
                .and_then(|v| mapping.json_record(&v, source).map_err(|e| e.to_string()));
            match res {
                Ok(r) => out.push(r),
                Err(reason) => rejected.push(Rejected {
                    line: i as u64 + 1,
                    reason,
                }),
            }
        }
        return Ok((out, rejected));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let headers = rdr.headers()?.clone();
    let index = header_index(&headers);
    mapping.check_columns(&kindred_proto::mapping::header_names(&headers))?;
    for row in rdr.records() {
        match row {
            Ok(row) => {
                let line = row.position().map(|p| p.line()).unwrap_or(0);
                match mapping.csv_record(&index, &row, source) {
                    Ok(r) => out.push(r),
                    Err(e) => rejected.push(Rejected {
                        line,
                        reason: e.to_string(),
                    }),
                }
            }
            Err(e) => rejected.push(Rejected {
                line: e.position().map(|p| p.line()).unwrap_or(0),
                reason: e.to_string(),
            }),
        }
    }
    Ok((out, rejected))
}

/// Ground truth: record → true cluster. Keys are `source/record_id` when
/// the file has a `source` column, else the bare record id.
pub struct Truth {
    pub by_key: HashMap<String, String>,
    pub has_source: bool,
}

impl Truth {
    /// Reads `record_id,cluster_id` or `source,record_id,<cluster column>`.
    pub fn load(path: &Path) -> Result<Self> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let h: Vec<String> = rdr.headers()?.iter().map(str::to_string).collect();
        let col = |names: &[&str]| h.iter().position(|x| names.contains(&x.as_str()));
        let rid = col(&["record_id", "rec_id"]).context("truth file needs a record_id column")?;
        let src = col(&["source"]);
        let Some(cid) = col(&["cluster_id", "person_id", "entity_id", "master_id"]) else {
            bail!("truth file needs a cluster_id (or person_id) column");
        };
        let mut by_key = HashMap::new();
        for row in rdr.records() {
            let row = row?;
            let key = match src {
                Some(s) => format!("{}/{}", &row[s], &row[rid]),
                None => row[rid].to_string(),
            };
            by_key.insert(key, row[cid].to_string());
        }
        Ok(Truth {
            by_key,
            has_source: src.is_some(),
        })
    }

    /// The truth key of a record.
    pub fn key(&self, source: &str, record_id: &str) -> String {
        if self.has_source {
            format!("{source}/{record_id}")
        } else {
            record_id.to_string()
        }
    }
}
