//! Noise: the small corruptions real data entry introduces (typing slips,
//! phonetic misspellings, lost accents, punctuation variants, digit slips),
//! and [`NoiseProfile`], how often each kind happens at a given
//! [`Difficulty`](super::Difficulty).
//!
//! Every function here is deterministic for a given random-number state and
//! changes its input by exactly the one edit it describes, so tests can
//! check it.

use rand::Rng;

use super::Difficulty;

/// How often each kind of noise is applied, per record (or per person for
/// life events such as moving house).
#[derive(Debug, Clone)]
pub struct NoiseProfile {
    /// A typo in a name part.
    pub name_typo: f64,
    /// A second typo after a first one (Hard only).
    pub second_typo: f64,
    /// A nickname instead of the formal given name.
    pub nickname: f64,
    /// Given and family names swapped.
    pub swap_names: f64,
    /// A phonetic misspelling outside the call centre.
    pub phonetic: f64,
    /// A phonetic misspelling at the call centre (per name part).
    pub phonetic_callcentre: f64,
    /// Apostrophes and hyphens dropped or replaced by a space.
    pub punctuation: f64,
    /// Accents removed (when the source keeps them at all).
    pub strip_accents: f64,
    /// The whole name upper- or lower-cased.
    pub case_change: f64,
    /// An otherwise present field left empty.
    pub missing: f64,
    /// Day and month swapped in the date of birth.
    pub dob_swap: f64,
    /// Year of birth off by one.
    pub dob_year: f64,
    /// A digit slip in the day of birth.
    pub dob_day: f64,
    /// A person has moved house (has an old address).
    pub moved: f64,
    /// A record of a person who moved shows the old address.
    pub old_address: f64,
    /// A person has a second e-mail address.
    pub second_email: f64,
    /// A record shows the second e-mail address.
    pub use_second_email: f64,
    /// A typo in the e-mail address.
    pub email_typo: f64,
    /// One digit of the phone number wrong.
    pub phone_digit: f64,
    /// The landline instead of the mobile.
    pub landline: f64,
    /// A woman has a previous (maiden) family name.
    pub maiden: f64,
    /// A record of such a woman shows the previous family name.
    pub use_maiden: f64,
    /// Street type abbreviated or expanded against the source's habit.
    pub street_abbrev: f64,
    /// A typo in the street or locality.
    pub address_typo: f64,
    /// A digit slip in the postcode.
    pub postcode_typo: f64,
    /// A digit slip in the national identifier.
    pub national_id_typo: f64,
    /// A placeholder value (test@test.com, 0400000000, 1900-01-01).
    pub generic_value: f64,
    /// Wrong gender recorded.
    pub gender_error: f64,
    /// A foreign phone number written without its country code.
    pub foreign_national: f64,
    /// Share of people who belong to a household of relatives.
    pub household: f64,
    /// Share of those relatives one of whose records carries the first
    /// member's national identifier.
    pub borrowed_id: f64,
    /// Share of people given a very common full name.
    pub common_name: f64,
}

impl NoiseProfile {
    /// The profile for a difficulty.
    pub fn new(difficulty: Difficulty) -> Self {
        // Medium rates, scaled.
        let s = match difficulty {
            Difficulty::Easy => 0.3,
            Difficulty::Medium => 1.0,
            Difficulty::Hard => 2.0,
        };
        let p = |base: f64| (base * s).min(0.9);
        NoiseProfile {
            name_typo: p(0.08),
            second_typo: if difficulty == Difficulty::Hard {
                0.3
            } else {
                0.0
            },
            nickname: p(0.10),
            swap_names: p(0.015),
            phonetic: p(0.02),
            phonetic_callcentre: p(0.25),
            punctuation: p(0.25),
            strip_accents: p(0.3),
            case_change: p(0.04),
            missing: p(0.05),
            dob_swap: p(0.03),
            dob_year: p(0.02),
            dob_day: p(0.02),
            moved: p(0.15),
            old_address: p(0.35),
            second_email: p(0.25),
            use_second_email: p(0.35),
            email_typo: p(0.02),
            phone_digit: p(0.03),
            landline: p(0.06),
            maiden: p(0.12),
            use_maiden: p(0.3),
            street_abbrev: p(0.15),
            address_typo: p(0.04),
            postcode_typo: p(0.01),
            national_id_typo: p(0.01),
            generic_value: p(0.006),
            gender_error: p(0.005),
            foreign_national: p(0.1),
            household: match difficulty {
                Difficulty::Easy => 0.02,
                Difficulty::Medium => 0.04,
                Difficulty::Hard => 0.07,
            },
            borrowed_id: match difficulty {
                Difficulty::Easy => 0.1,
                Difficulty::Medium => 0.2,
                Difficulty::Hard => 0.35,
            },
            common_name: match difficulty {
                Difficulty::Easy => 0.005,
                Difficulty::Medium => 0.015,
                Difficulty::Hard => 0.03,
            },
        }
    }
}

/// Neighbouring keys on a QWERTY keyboard (lower-case letters and digits).
pub fn keyboard_neighbours(c: char) -> &'static str {
    match c {
        'q' => "wa",
        'w' => "qeas",
        'e' => "wrsd",
        'r' => "etdf",
        't' => "ryfg",
        'y' => "tugh",
        'u' => "yihj",
        'i' => "uojk",
        'o' => "ipkl",
        'p' => "ol",
        'a' => "qwsz",
        's' => "awedzx",
        'd' => "serfxc",
        'f' => "drtgcv",
        'g' => "ftyhvb",
        'h' => "gyujbn",
        'j' => "huiknm",
        'k' => "jiolm",
        'l' => "kop",
        'z' => "asx",
        'x' => "zsdc",
        'c' => "xdfv",
        'v' => "cfgb",
        'b' => "vghn",
        'n' => "bhjm",
        'm' => "njk",
        '1' => "2q",
        '2' => "13w",
        '3' => "24e",
        '4' => "35r",
        '5' => "46t",
        '6' => "57y",
        '7' => "68u",
        '8' => "79i",
        '9' => "80o",
        '0' => "9p",
        _ => "",
    }
}

/// A key next to `c` on the keyboard, in the same case; a random letter
/// when `c` has no neighbours listed. Never `c` itself.
pub fn keyboard_neighbour<R: Rng>(c: char, rng: &mut R) -> char {
    let lower = c.to_ascii_lowercase();
    let near = keyboard_neighbours(lower).as_bytes();
    let pick = if near.is_empty() {
        loop {
            let r = (b'a' + rng.gen_range(0..26u8)) as char;
            if r != lower {
                break r;
            }
        }
    } else {
        near[rng.gen_range(0..near.len())] as char
    };
    if c.is_uppercase() {
        pick.to_ascii_uppercase()
    } else {
        pick
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Edit {
    Insert,
    Delete,
    Substitute,
    Transpose,
}

/// Applies exactly one typing slip to `s`: a character inserted (a doubled
/// key or a neighbouring key), deleted, replaced by a keyboard neighbour, or
/// two adjacent different characters swapped. The result always differs
/// from `s` by one edit (optimal string alignment distance 1); an empty
/// string is returned unchanged. The first character is rarely touched.
pub fn typo<R: Rng>(s: &str, rng: &mut R) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let mut edit = match rng.gen_range(0..12u8) {
        0..=2 => Edit::Insert,
        3..=5 => Edit::Delete,
        6..=8 => Edit::Substitute,
        _ => Edit::Transpose,
    };
    if edit == Edit::Delete && n == 1 {
        edit = Edit::Substitute;
    }
    if edit == Edit::Transpose && !chars.windows(2).any(|w| w[0] != w[1]) {
        edit = Edit::Substitute;
    }
    // Position: mostly not the first character.
    let pos = |rng: &mut R, len: usize| -> usize {
        if len > 1 && rng.gen_bool(0.9) {
            rng.gen_range(1..len)
        } else {
            rng.gen_range(0..len)
        }
    };
    match edit {
        Edit::Insert => {
            let i = pos(rng, n);
            let c = chars[i];
            let new = if rng.gen_bool(0.5) || !c.is_alphanumeric() {
                c
            } else {
                keyboard_neighbour(c, rng)
            };
            chars.insert(i, new);
        }
        Edit::Delete => {
            let i = pos(rng, n);
            chars.remove(i);
        }
        Edit::Substitute => {
            let i = pos(rng, n);
            chars[i] = keyboard_neighbour(chars[i], rng);
        }
        Edit::Transpose => {
            let candidates: Vec<usize> = (0..n - 1).filter(|&i| chars[i] != chars[i + 1]).collect();
            // Prefer swaps away from the first character.
            let later: Vec<usize> = candidates.iter().copied().filter(|&i| i > 0).collect();
            let from = if !later.is_empty() && rng.gen_bool(0.9) {
                &later
            } else {
                &candidates
            };
            let i = from[rng.gen_range(0..from.len())];
            chars.swap(i, i + 1);
        }
    }
    chars.into_iter().collect()
}

/// Replaces one digit of `s` with a different digit (among the last
/// `tail` digits, to keep prefixes such as "04" intact). Unchanged when
/// `s` has no digit there.
pub fn digit_typo<R: Rng>(s: &str, tail: usize, rng: &mut R) -> String {
    let positions: Vec<usize> = s
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    if positions.is_empty() {
        return s.to_string();
    }
    let start = positions.len().saturating_sub(tail);
    let at = positions[rng.gen_range(start..positions.len())];
    let old = s.as_bytes()[at];
    let new = loop {
        let d = b'0' + rng.gen_range(0..10u8);
        if d != old {
            break d;
        }
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..at]);
    out.push(new as char);
    out.push_str(&s[at + 1..]);
    out
}

/// The ASCII letters an accented letter is usually written as.
fn unaccent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ą' => "A",
        'ç' | 'č' | 'ć' => "c",
        'Ç' | 'Č' | 'Ć' => "C",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ę' | 'Ě' => "E",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'İ' => "I",
        'ñ' | 'ń' | 'ň' => "n",
        'Ñ' | 'Ń' | 'Ň' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ő' => "O",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' => "Y",
        'š' | 'ś' | 'ş' => "s",
        'Š' | 'Ś' | 'Ş' => "S",
        'ž' | 'ź' | 'ż' => "z",
        'Ž' | 'Ź' | 'Ż' => "Z",
        'ł' => "l",
        'Ł' => "L",
        'đ' | 'ď' => "d",
        'Đ' | 'Ď' => "D",
        'ř' => "r",
        'Ř' => "R",
        'ť' | 'ţ' => "t",
        'Ť' | 'Ţ' => "T",
        'ğ' => "g",
        'Ğ' => "G",
        'ß' => "ss",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        'þ' => "th",
        _ => return None,
    })
}

/// True when `s` has a letter [`strip_accents`] would change.
pub fn has_accents(s: &str) -> bool {
    s.chars().any(|c| unaccent(c).is_some())
}

/// Removes accents: "José Müller" → "Jose Muller". With `german` set,
/// umlauts become two letters instead ("Müller" → "Mueller").
pub fn strip_accents(s: &str, german: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if german {
            let two = match c {
                'ä' => Some("ae"),
                'ö' => Some("oe"),
                'ü' => Some("ue"),
                'Ä' => Some("Ae"),
                'Ö' => Some("Oe"),
                'Ü' => Some("Ue"),
                _ => None,
            };
            if let Some(t) = two {
                out.push_str(t);
                continue;
            }
        }
        match unaccent(c) {
            Some(a) => out.push_str(a),
            None => out.push(c),
        }
    }
    out
}

/// Drops or replaces the apostrophes and hyphens in a name:
/// "O'Brien" → "OBrien" or "O Brien", "Smith-Jones" → "Smith Jones" or
/// "SmithJones". Unchanged when there are none.
pub fn punctuation_variant<R: Rng>(s: &str, rng: &mut R) -> String {
    let replacement = match rng.gen_range(0..3u8) {
        0 => "",
        1 => " ",
        _ => {
            if s.contains('\'') {
                "`"
            } else {
                " "
            }
        }
    };
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\'' || c == '-' {
            out.push_str(replacement);
        } else {
            out.push(c);
        }
    }
    out
}

/// Spelling rules that keep the sound: (written, heard-as).
const PHONETIC_RULES: &[(&str, &str)] = &[
    ("ph", "f"),
    ("ck", "k"),
    ("ca", "ka"),
    ("co", "ko"),
    ("ka", "ca"),
    ("ee", "ea"),
    ("ea", "ee"),
    ("ie", "ei"),
    ("ei", "ie"),
    ("y", "i"),
    ("i", "y"),
    ("ou", "ow"),
    ("ow", "ou"),
    ("th", "t"),
    ("z", "s"),
    ("s", "z"),
    ("mc", "mac"),
    ("mac", "mc"),
    ("ll", "l"),
    ("nn", "n"),
    ("tt", "t"),
    ("rr", "r"),
    ("ss", "s"),
    ("son", "sen"),
    ("sen", "son"),
    ("ai", "ay"),
    ("ay", "ai"),
    ("ae", "e"),
    ("gh", ""),
    ("x", "ks"),
    ("qu", "kw"),
    ("ine", "ene"),
    ("an", "en"),
    ("er", "a"),
    ("dg", "j"),
    ("ge", "je"),
    ("gi", "ji"),
    ("v", "w"),
    ("w", "v"),
    ("ough", "o"),
    ("ey", "y"),
    ("oo", "u"),
    ("u", "oo"),
    ("c", "k"),
    ("k", "c"),
];

/// Writes `s` the way it sounds rather than the way it is spelled: a
/// known alternative spelling ("Stephen" → "Steven", "Clarke" → "Clark")
/// or one sound-preserving respelling ("Phillips" → "Fillips",
/// "Catherine" → "Katherine", "Thompson" → "Tompson"). Falls back to a
/// [`typo`] when no rule applies, so the result always differs from `s`.
pub fn phonetic_misspell<R: Rng>(s: &str, rng: &mut R) -> String {
    if let Some(group) = super::names::soundalikes_of(s) {
        if rng.gen_bool(0.6) {
            let others: Vec<&str> = group.iter().copied().filter(|g| *g != s).collect();
            return others[rng.gen_range(0..others.len())].to_string();
        }
    }
    let lower = s.to_lowercase();
    if lower.len() != s.len() {
        // Case folding changed byte offsets; keep it simple.
        return typo(s, rng);
    }
    let mut hits: Vec<(usize, &str, &str)> = Vec::new();
    for &(from, to) in PHONETIC_RULES {
        let mut start = 0;
        while let Some(i) = lower[start..].find(from) {
            let at = start + i;
            hits.push((at, from, to));
            start = at + from.len();
        }
    }
    if hits.is_empty() {
        return typo(s, rng);
    }
    let (at, from, to) = hits[rng.gen_range(0..hits.len())];
    let mut out = String::with_capacity(s.len() + 2);
    out.push_str(&s[..at]);
    let first_upper = s[at..].chars().next().is_some_and(char::is_uppercase);
    let all_upper = s.chars().all(|c| !c.is_lowercase());
    for (k, c) in to.chars().enumerate() {
        if all_upper || (k == 0 && first_upper) {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out.push_str(&s[at + from.len()..]);
    if out == s || out.is_empty() {
        return typo(s, rng);
    }
    out
}

/// Appends `s` upper-cased.
pub fn push_upper(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| b.to_ascii_uppercase() as char));
    } else {
        out.push_str(&s.to_uppercase());
    }
}

/// Appends `s` lower-cased.
pub fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        out.push_str(&s.to_lowercase());
    }
}
