//! The resolution engine in process, without a server: the clustering
//! depends only on the set of records (arrival order, updates and deletes
//! along the way do not change it), merges and splits keep the documented
//! ids, and Febrl dataset 3 resolves identically and accurately in three
//! orders; issue 9's quality fixes hold end to end; a pair scores the
//! same whichever way round it is compared; two people of one household
//! are not one person.

mod febrl3_orders;
mod households;
mod quality;
mod sequence_neutrality;
mod symmetry;
