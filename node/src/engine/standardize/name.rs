//! Person-name parsing: splits a full name ("Dr. John Andrew Smith Jr",
//! "Smith, John A.", "Mary-Jane van der Berg") into given, middle and family
//! parts, drops titles and suffixes, keeps family-name particles with the
//! family name, and folds every part with [`fold`].

use std::sync::LazyLock;

use rustc_hash::FxHashSet;

use super::text::{fold, fold_into};

/// A full name split into its parts; each part is folded text, `None` when
/// absent. `middle` may hold several words ("andrew james").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedName {
    pub given: Option<String>,
    pub middle: Option<String>,
    pub family: Option<String>,
}

/// Honorifics dropped from the front of a name (compared with dots and
/// separators removed, so "Dr." and "D.R." both match "dr"). Deliberately
/// conservative: words that are also plausible names (lady, major, master)
/// are not listed.
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "mstr",
    "messrs",
    "dr",
    "doctor",
    "prof",
    "professor",
    "sir",
    "dame",
    "rev",
    "revd",
    "reverend",
    "fr",
    "pastor",
    "rabbi",
    "hon",
    "honourable",
    "honorable",
    "capt",
    "captain",
    "sgt",
    "col",
    "lt",
    "cmdr",
    "madam",
    "madame",
    "mme",
    "mlle",
    "herr",
    "frau",
    "sra",
    "srta",
    "mrmrs",
    "mrsmr",
];

/// Generational and post-nominal suffixes dropped from the end of a name.
/// Single letters ("v") are not listed: they are far more often initials.
const SUFFIXES: &[&str] = &[
    "jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv", "vi", "vii", "viii", "2nd",
    "3rd", "4th", "phd", "md", "dds", "dmd", "dvm", "esq", "esquire", "mba", "cpa", "jd", "llb",
    "llm", "obe", "mbe", "cbe", "kbe", "dbe", "qc", "kc", "frcs", "facs", "ret", "retd", "rn",
];

/// Particles that belong to the family name that follows them
/// ("van der berg", "de la cruz", "mac donald").
const PARTICLES: &[&str] = &[
    "van", "von", "de", "der", "den", "da", "di", "le", "la", "du", "del", "della", "dela", "des",
    "dos", "das", "do", "mac", "mc", "ter", "ten", "vander", "vanden", "zu", "af", "av", "bin",
    "ibn", "ap", "st",
];

static TITLE_SET: LazyLock<FxHashSet<&'static str>> =
    LazyLock::new(|| TITLES.iter().copied().collect());
static SUFFIX_SET: LazyLock<FxHashSet<&'static str>> =
    LazyLock::new(|| SUFFIXES.iter().copied().collect());
static PARTICLE_SET: LazyLock<FxHashSet<&'static str>> =
    LazyLock::new(|| PARTICLES.iter().copied().collect());

/// Longest title or suffix, in characters, plus room to spare.
const KEY_LEN: usize = 16;

/// `folded` with its spaces removed, so titles and suffixes are recognised
/// however they are punctuated ("Ph.D." folds to "ph d", key "phd"). `None`
/// when longer than any title or suffix.
fn compact_key<'b>(folded: &str, buf: &'b mut [u8; KEY_LEN]) -> Option<&'b str> {
    let mut n = 0;
    for b in folded.bytes().filter(|&b| b != b' ') {
        *buf.get_mut(n)? = b;
        n += 1;
    }
    std::str::from_utf8(&buf[..n]).ok()
}

fn is_title(folded: &str) -> bool {
    let mut buf = [0; KEY_LEN];
    compact_key(folded, &mut buf).is_some_and(|k| TITLE_SET.contains(k))
}

fn is_suffix(folded: &str) -> bool {
    let mut buf = [0; KEY_LEN];
    compact_key(folded, &mut buf).is_some_and(|k| SUFFIX_SET.contains(k))
}

fn is_particle(folded: &str) -> bool {
    PARTICLE_SET.contains(folded)
}

fn is_word_separator(c: char) -> bool {
    c.is_whitespace() || c == ','
}

/// What one raw word could be, without allocating: (may be a title, may be
/// a suffix, folds to nothing). Non-ASCII words report "may be" both, to be
/// decided by the exact (folding) path.
fn classify_raw_word(w: &str) -> (bool, bool, bool) {
    if !w.is_ascii() {
        return (true, true, false);
    }
    let mut buf = [0u8; KEY_LEN];
    let mut n = 0;
    for b in w.bytes().filter(u8::is_ascii_alphanumeric) {
        match buf.get_mut(n) {
            Some(slot) => *slot = b.to_ascii_lowercase(),
            None => return (false, false, false),
        }
        n += 1;
    }
    match std::str::from_utf8(&buf[..n]) {
        Ok("") => (false, false, true),
        Ok(k) => (TITLE_SET.contains(k), SUFFIX_SET.contains(k), false),
        Err(_) => (true, true, false),
    }
}

/// Whitespace-separated raw words of `s`, each folded; words that fold to
/// nothing are skipped. A hyphenated word stays one token ("mary jane").
fn folded_words(s: &str) -> Vec<String> {
    s.split(is_word_separator)
        .map(fold)
        .filter(|w| !w.is_empty())
        .collect()
}

/// Drop leading titles (returns how many were dropped) and trailing
/// suffixes, never removing the last remaining word when `keep_one`.
fn strip_titles_suffixes(words: &mut Vec<String>, keep_one: bool) -> usize {
    let min = usize::from(keep_one);
    let mut lead = 0;
    while lead < words.len() && words.len() - lead > min && is_title(&words[lead]) {
        lead += 1;
    }
    words.drain(..lead);
    while words.len() > min && words.last().is_some_and(|w| is_suffix(w)) {
        words.pop();
    }
    lead
}

fn join(words: &[String]) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(words.iter().map(|w| w.len() + 1).sum());
    for w in words {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    Some(out)
}

/// Split "given middle..." words into (given, middle).
fn given_middle(words: &[String]) -> (Option<String>, Option<String>) {
    match words.split_first() {
        Some((g, rest)) => (Some(g.clone()), join(rest)),
        None => (None, None),
    }
}

/// Parse a full name: "John Smith", "Smith, John A.", "Dr. John Andrew
/// Smith Jr", "Mary-Jane van der Berg". Family particles (van, von, de, der,
/// da, di, le, la, du, del, della, mac, ...) stay with the family name;
/// titles and suffixes are dropped. Every part is folded; a hyphenated given
/// name stays one part ("mary jane").
pub fn parse_full_name(full: &str) -> ParsedName {
    // "Family, Given Middle" unless everything after the first comma is
    // suffixes or titles ("John Smith, Jr.").
    let mut segments = full.split(',');
    let head = segments.next().unwrap_or("");
    let tail: Vec<String> = segments.flat_map(folded_words).collect();
    let comma_form = tail.iter().any(|w| !is_suffix(w) && !is_title(w));
    if comma_form {
        let mut family = folded_words(head);
        strip_titles_suffixes(&mut family, false);
        let mut rest = tail;
        strip_titles_suffixes(&mut rest, false);
        let (given, middle) = given_middle(&rest);
        return ParsedName {
            given,
            middle,
            family: join(&family),
        };
    }

    let mut words = folded_words(head);
    let titles = strip_titles_suffixes(&mut words, true);
    match words.len() {
        0 => ParsedName::default(),
        // "Madonna" is a given name, but "Mr Smith" is a family name.
        1 if titles > 0 => ParsedName {
            family: words.pop(),
            ..ParsedName::default()
        },
        1 => ParsedName {
            given: words.pop(),
            ..ParsedName::default()
        },
        n => {
            let mut start = n - 1;
            while start > 1 && is_particle(&words[start - 1]) {
                start -= 1;
            }
            let family = join(&words[start..]);
            let (given, middle) = given_middle(&words[..start]);
            ParsedName {
                given,
                middle,
                family,
            }
        }
    }
}

/// Fold a single name part and drop titles and suffixes; `None` if nothing
/// is left ("Dr. John" -> "john", "Smith Jr." -> "smith", "Mr" -> None).
pub fn normalize_name_part(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    if out.is_empty() {
        return None;
    }
    // Fast path: unless the first word may be a title or the last a suffix,
    // the folded text is the answer.
    let first = s
        .split(is_word_separator)
        .map(classify_raw_word)
        .find(|c| !c.2);
    let last = s
        .rsplit(is_word_separator)
        .map(classify_raw_word)
        .find(|c| !c.2);
    if let (Some((false, _, _)), Some((_, false, _))) = (first, last) {
        return Some(out);
    }
    let mut words = folded_words(s);
    strip_titles_suffixes(&mut words, false);
    join(&words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(given: Option<&str>, middle: Option<&str>, family: Option<&str>) -> ParsedName {
        ParsedName {
            given: given.map(str::to_owned),
            middle: middle.map(str::to_owned),
            family: family.map(str::to_owned),
        }
    }

    #[test]
    fn simple_names() {
        assert_eq!(
            parse_full_name("John Smith"),
            p(Some("john"), None, Some("smith"))
        );
        assert_eq!(
            parse_full_name("  JOHN   SMITH "),
            p(Some("john"), None, Some("smith"))
        );
        assert_eq!(parse_full_name("Madonna"), p(Some("madonna"), None, None));
        assert_eq!(parse_full_name(""), p(None, None, None));
        assert_eq!(parse_full_name(" , . "), p(None, None, None));
    }

    #[test]
    fn comma_form() {
        assert_eq!(
            parse_full_name("Smith, John A."),
            p(Some("john"), Some("a"), Some("smith"))
        );
        assert_eq!(
            parse_full_name("van der Berg, Mary Ann"),
            p(Some("mary"), Some("ann"), Some("van der berg"))
        );
        assert_eq!(
            parse_full_name("Smith Jr., Dr. John"),
            p(Some("john"), None, Some("smith"))
        );
        assert_eq!(
            parse_full_name("Smith, John, Jr."),
            p(Some("john"), None, Some("smith"))
        );
        // a comma before a suffix is not the "Family, Given" form
        assert_eq!(
            parse_full_name("John Smith, Jr."),
            p(Some("john"), None, Some("smith"))
        );
        assert_eq!(
            parse_full_name("John Smith, PhD"),
            p(Some("john"), None, Some("smith"))
        );
    }

    #[test]
    fn titles_and_suffixes() {
        assert_eq!(
            parse_full_name("Dr. John Andrew Smith Jr"),
            p(Some("john"), Some("andrew"), Some("smith"))
        );
        assert_eq!(
            parse_full_name("Prof Sir Tim Berners-Lee OBE"),
            p(Some("tim"), None, Some("berners lee"))
        );
        assert_eq!(parse_full_name("Mrs. Smith"), p(None, None, Some("smith")));
        assert_eq!(
            parse_full_name("Henry Ford III"),
            p(Some("henry"), None, Some("ford"))
        );
        assert_eq!(
            parse_full_name("Jane Doe Ph.D."),
            p(Some("jane"), None, Some("doe"))
        );
        // a lone title is left alone rather than producing nothing
        assert_eq!(parse_full_name("Dr"), p(Some("dr"), None, None));
    }

    #[test]
    fn particles_stay_with_family() {
        assert_eq!(
            parse_full_name("Mary-Jane van der Berg"),
            p(Some("mary jane"), None, Some("van der berg"))
        );
        assert_eq!(
            parse_full_name("Ludwig van Beethoven"),
            p(Some("ludwig"), None, Some("van beethoven"))
        );
        assert_eq!(
            parse_full_name("Juan de la Cruz"),
            p(Some("juan"), None, Some("de la cruz"))
        );
        assert_eq!(
            parse_full_name("Leonardo di ser Piero da Vinci"),
            p(Some("leonardo"), Some("di ser piero"), Some("da vinci"))
        );
        assert_eq!(
            parse_full_name("Angus Mac Donald"),
            p(Some("angus"), None, Some("mac donald"))
        );
        // the first word is always the given name, even if it is a particle
        assert_eq!(
            parse_full_name("Van Morrison"),
            p(Some("van"), None, Some("morrison"))
        );
        assert_eq!(
            parse_full_name("Sean O'Brien"),
            p(Some("sean"), None, Some("obrien"))
        );
    }

    #[test]
    fn accents_folded() {
        assert_eq!(
            parse_full_name("José Álvarez"),
            p(Some("jose"), None, Some("alvarez"))
        );
    }

    #[test]
    fn name_parts() {
        assert_eq!(normalize_name_part("Dr. John").as_deref(), Some("john"));
        assert_eq!(normalize_name_part("Smith Jr.").as_deref(), Some("smith"));
        assert_eq!(normalize_name_part("O'Brien").as_deref(), Some("obrien"));
        assert_eq!(
            normalize_name_part("Smith-Jones").as_deref(),
            Some("smith jones")
        );
        assert_eq!(normalize_name_part("Mr"), None);
        assert_eq!(normalize_name_part(" - "), None);
        assert_eq!(
            normalize_name_part("Mary Jane").as_deref(),
            Some("mary jane")
        );
        assert_eq!(
            normalize_name_part("van der Berg").as_deref(),
            Some("van der berg")
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_parts_are_folded(s in any::<String>()) {
            let n = parse_full_name(&s);
            for part in [&n.given, &n.middle, &n.family].into_iter().flatten() {
                prop_assert!(!part.is_empty());
                prop_assert_eq!(fold(part), part.clone());
            }
            if let Some(x) = normalize_name_part(&s) {
                prop_assert_eq!(fold(&x), x);
            }
        }

        #[test]
        fn two_plain_words_are_given_and_family(a in "[A-Z][a-z]{3,8}", b in "[A-Z][a-z]{3,8}") {
            prop_assume!(!is_particle(&a.to_lowercase()) && !is_title(&a.to_lowercase()));
            prop_assume!(!is_suffix(&b.to_lowercase()));
            let n = parse_full_name(&format!("{a} {b}"));
            prop_assert_eq!(n.given, Some(a.to_lowercase()));
            prop_assert_eq!(n.family, Some(b.to_lowercase()));
        }
    }
}
