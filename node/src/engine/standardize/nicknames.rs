//! Given-name nicknames: maps "bob", "bobby", "liz", "peggy" to their formal
//! names so that "Bob Smith" and "Robert Smith" can be recognised as the
//! same given name.
//!
//! The table is data, `node/data/nicknames.csv` (header `formal,nicknames`,
//! nicknames separated by `|`, every name in folded form), embedded at
//! compile time and parsed once into a hash map on first use.
//!
//! Rows are in priority order: a nickname listed under several formal names
//! (e.g. "al": alan, albert, alfred, ...) canonicalises to the formal name
//! on the earliest row, so common names come first in the file. A name that
//! is itself a formal row is always its own canonical form.

use std::sync::LazyLock;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

const NICKNAMES_CSV: &str = include_str!("../../../data/nicknames.csv");

/// Formal names a name may stand for; the name itself first when it is a
/// formal name, then the others in file (priority) order.
type Formals = SmallVec<[&'static str; 2]>;

struct Table {
    groups: FxHashMap<&'static str, Formals>,
    formal_rows: usize,
}

fn parse_table(csv: &'static str) -> Table {
    let mut groups: FxHashMap<&'static str, Formals> = FxHashMap::default();
    let mut formal_rows = 0;
    for line in csv.lines().skip(1) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (formal, nicks) = line.split_once(',').unwrap_or((line, ""));
        let formal = formal.trim();
        if formal.is_empty() {
            continue;
        }
        formal_rows += 1;
        // A formal name is its own first group, even if an earlier row
        // listed it as a nickname of something else.
        let own = groups.entry(formal).or_default();
        if own.first() != Some(&formal) {
            own.retain(|f| *f != formal);
            own.insert(0, formal);
        }
        for nick in nicks.split('|').map(str::trim) {
            if nick.is_empty() || nick == formal {
                continue;
            }
            let g = groups.entry(nick).or_default();
            if !g.contains(&formal) {
                g.push(formal);
            }
        }
    }
    Table {
        groups,
        formal_rows,
    }
}

static TABLE: LazyLock<Table> = LazyLock::new(|| parse_table(NICKNAMES_CSV));

/// Number of formal-name rows in the embedded table.
pub fn formal_name_count() -> usize {
    TABLE.formal_rows
}

fn lookup(name: &str) -> Option<&'static [&'static str]> {
    TABLE.groups.get(name).map(|g| g.as_slice())
}

/// The canonical given name of a (folded) given name via the nickname
/// table: "bob" -> "robert", "liz" -> "elizabeth", "peggy" -> "margaret".
/// A name not in the table is its own canonical form and is returned as is.
/// A nickname of several formal names maps to the first of them in table
/// order ("al" -> "alan"); see [`nickname_groups`] for all of them.
pub fn canonical_given(name: &str) -> &str {
    match lookup(name).and_then(|g| g.first()) {
        Some(f) => f,
        None => name,
    }
}

/// All formal names a (folded) given name may stand for, the name itself
/// included (first) when it is a formal name; never empty: a name not in
/// the table stands only for itself.
pub fn nickname_groups(name: &str) -> Vec<&str> {
    match lookup(name) {
        Some(g) if !g.is_empty() => g.to_vec(),
        _ => vec![name],
    }
}

/// True if `a` and `b` (folded given names) are equal or nickname-equivalent
/// (they may stand for a common formal name: "bob" ~ "robert" ~ "bobby").
pub fn nickname_equivalent(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let ga: &[&str] = lookup(a).unwrap_or(&[]);
    let gb: &[&str] = lookup(b).unwrap_or(&[]);
    // A name outside the table stands only for itself.
    let in_a = |x: &str| x == a || ga.contains(&x);
    in_a(b) || gb.iter().any(|x| in_a(x))
}

#[cfg(test)]
mod tests {
    use super::super::text::fold;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_examples() {
        assert_eq!(canonical_given("bob"), "robert");
        assert_eq!(canonical_given("bobby"), "robert");
        assert_eq!(canonical_given("liz"), "elizabeth");
        assert_eq!(canonical_given("bill"), "william");
        assert_eq!(canonical_given("peggy"), "margaret");
        assert_eq!(canonical_given("robert"), "robert");
        assert_eq!(canonical_given("zyxwv"), "zyxwv");
        assert_eq!(canonical_given(""), "");
    }

    #[test]
    fn spelling_variants() {
        assert_eq!(canonical_given("jon"), "john");
        assert_eq!(canonical_given("steven"), "stephen");
        assert_eq!(canonical_given("sara"), "sarah");
        assert_eq!(canonical_given("geoffrey"), "jeffrey");
        assert_eq!(canonical_given("kathryn"), "catherine");
        assert_eq!(canonical_given("katherine"), "catherine");
        assert!(nickname_equivalent("ann", "anne"));
    }

    #[test]
    fn ambiguous_nicknames_pick_a_fixed_first_and_expose_all() {
        let al = nickname_groups("al");
        assert!(al.len() >= 3);
        for f in ["albert", "alfred", "alexander", "alan"] {
            assert!(al.contains(&f), "{f} missing from {al:?}");
        }
        assert_eq!(canonical_given("al"), al[0]);
        assert_eq!(canonical_given("sam"), "samuel");
        assert_eq!(canonical_given("fred"), "frederick");
        assert_eq!(canonical_given("ed"), "edward");
        assert!(nickname_groups("sam").contains(&"samantha"));
    }

    #[test]
    fn formal_names_group_with_themselves_first() {
        assert_eq!(nickname_groups("robert")[0], "robert");
        assert_eq!(nickname_groups("unknownname"), ["unknownname"]);
        // "max" is a formal row and also a nickname of maximilian/maxwell
        let max = nickname_groups("max");
        assert_eq!(max[0], "max");
        assert!(max.contains(&"maximilian") && max.contains(&"maxwell"));
        assert_eq!(canonical_given("max"), "max");
    }

    #[test]
    fn equivalence() {
        assert!(nickname_equivalent("bob", "robert"));
        assert!(nickname_equivalent("robert", "bob"));
        assert!(nickname_equivalent("bob", "bobby"));
        assert!(nickname_equivalent("peggy", "maggie"));
        assert!(nickname_equivalent("bill", "liam"));
        assert!(nickname_equivalent("al", "alfred"));
        assert!(nickname_equivalent("max", "maxwell"));
        assert!(nickname_equivalent("zed", "zed"));
        assert!(!nickname_equivalent("robert", "william"));
        assert!(!nickname_equivalent("bob", "bill"));
        assert!(!nickname_equivalent("zed", "zod"));
        assert!(!nickname_equivalent("", "bob"));
    }

    #[test]
    fn table_is_broad_and_well_formed() {
        assert!(formal_name_count() >= 400, "{}", formal_name_count());
        for line in NICKNAMES_CSV.lines().skip(1) {
            let (formal, nicks) = line.split_once(',').unwrap_or((line, ""));
            assert!(!formal.is_empty(), "line {line:?}");
            for n in std::iter::once(formal).chain(nicks.split('|')) {
                assert!(!n.is_empty() && !n.contains(' '), "line {line:?}");
                assert_eq!(fold(n), n, "name not folded in line {line:?}");
            }
        }
        assert!(NICKNAMES_CSV.starts_with("formal,nicknames\n"));
    }

    proptest! {
        #[test]
        fn groups_never_empty_and_canonical_is_first(s in "[a-z]{0,8}") {
            let g = nickname_groups(&s);
            prop_assert!(!g.is_empty());
            prop_assert_eq!(canonical_given(&s), g[0]);
            prop_assert!(nickname_equivalent(&s, &s));
            let c = canonical_given(&s).to_owned();
            prop_assert!(nickname_equivalent(&s, &c));
        }
    }
}
