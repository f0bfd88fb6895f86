//! Evaluation against ground truth: loading labelled CSV files through a
//! column mapping, and clustering metrics (pairwise and B-cubed).

pub mod load;
pub mod metrics;
