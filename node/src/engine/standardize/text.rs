//! Text folding: the one canonical way Kindred turns free text (names, street
//! lines, localities) into comparable ASCII. Folding strips accents and
//! transliterates other scripts, lowercases, deletes apostrophes and turns
//! every other non-alphanumeric character into a single separating space.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Characters deleted outright (not turned into a separator): apostrophes and
/// the marks people type in their place, so "O'Brien" folds to "obrien".
#[inline]
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '`'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201B}'
            | '\u{02BC}'
            | '\u{02B9}'
            | '\u{00B4}'
            | '\u{2032}'
    )
}

/// Accumulates folded output, inserting at most one space between words.
struct Folder<'a> {
    out: &'a mut String,
    pending_space: bool,
}

impl Folder<'_> {
    #[inline]
    fn push_ascii(&mut self, b: u8) {
        if b.is_ascii_alphanumeric() {
            if self.pending_space && !self.out.is_empty() {
                self.out.push(' ');
            }
            self.pending_space = false;
            self.out.push(char::from(b.to_ascii_lowercase()));
        } else if b == b'\'' || b == b'`' {
            // deleted: joins the surrounding letters
        } else {
            self.pending_space = true;
        }
    }

    fn push_char(&mut self, c: char) {
        if c.is_ascii() {
            // `c` is ASCII, so the cast is lossless.
            self.push_ascii(c as u8);
        } else if is_combining_mark(c) || is_apostrophe(c) {
            // accents left over by NFKD and apostrophe look-alikes are dropped
        } else if c.is_alphanumeric() {
            match deunicode::deunicode_char(c) {
                Some(t) => t.bytes().for_each(|b| self.push_ascii(b)),
                None => self.pending_space = true,
            }
        } else {
            // punctuation, symbols, emoji, exotic spaces: separators
            self.pending_space = true;
        }
    }
}

/// Fold `s` and append the result to `out` (which is expected to be empty
/// or to end a word; a separating space is added only between words that
/// this call produces).
pub fn fold_into(s: &str, out: &mut String) {
    let mut f = Folder {
        out,
        pending_space: false,
    };
    if s.is_ascii() {
        s.bytes().for_each(|b| f.push_ascii(b));
    } else {
        s.nfkd().for_each(|c| f.push_char(c));
    }
}

/// NFKD-normalise, strip accents/diacritics (transliterating non-Latin
/// scripts with `deunicode`), lowercase, delete apostrophes, turn every
/// other character that is not `[a-z0-9]` into a space, collapse whitespace
/// and trim. `"O'Brien"` -> `"obrien"`, `"Smith-Jones"` -> `"smith jones"`,
/// `"  José  "` -> `"jose"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// [`fold`] then split on spaces.
pub fn tokens(s: &str) -> Vec<String> {
    let f = fold(s);
    if f.is_empty() {
        return Vec::new();
    }
    f.split(' ').map(str::to_owned).collect()
}

/// True if `s` is already in folded form (`[a-z0-9]` words separated by
/// single spaces, no leading or trailing space).
pub fn is_folded(s: &str) -> bool {
    let b = s.as_bytes();
    if b.first() == Some(&b' ') || b.last() == Some(&b' ') {
        return false;
    }
    let mut prev_space = false;
    for &c in b {
        match c {
            b'a'..=b'z' | b'0'..=b'9' => prev_space = false,
            b' ' if !prev_space => prev_space = true,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_examples_from_the_spec() {
        assert_eq!(fold("O'Brien"), "obrien");
        assert_eq!(fold("Smith-Jones"), "smith jones");
        assert_eq!(fold("  José  "), "jose");
        assert_eq!(fold(""), "");
        assert_eq!(fold("   "), "");
        assert_eq!(fold("--!!--"), "");
    }

    #[test]
    fn strips_accents_and_transliterates() {
        assert_eq!(fold("Zoë Müller-Lüdenscheidt"), "zoe muller ludenscheidt");
        assert_eq!(fold("François Ærø"), "francois aero");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Łukasz Żółć"), "lukasz zolc");
        assert_eq!(fold("Дмитрий"), "dmitrii");
        assert_eq!(fold("Ｊｏｈｎ"), "john"); // fullwidth, via NFKD
        assert_eq!(fold("北京"), "bei jing");
    }

    #[test]
    fn apostrophe_variants_are_deleted() {
        assert_eq!(fold("O’Neil"), "oneil");
        assert_eq!(fold("D`Arcy"), "darcy");
        assert_eq!(fold("N'Golo Kanté"), "ngolo kante");
    }

    #[test]
    fn separators_collapse() {
        assert_eq!(fold("a\t\tb\n\nc  d__e..f"), "a b c d e f");
        assert_eq!(fold("12/34 Main St."), "12 34 main st");
        assert_eq!(fold("John 😀 Smith"), "john smith");
    }

    #[test]
    fn tokens_split() {
        assert_eq!(
            tokens(" Mary-Jane  van der Berg "),
            ["mary", "jane", "van", "der", "berg"]
        );
        assert!(tokens(" - ").is_empty());
    }

    #[test]
    fn is_folded_detects_form() {
        assert!(is_folded("abc def"));
        assert!(is_folded(""));
        assert!(!is_folded("abc  def"));
        assert!(!is_folded(" abc"));
        assert!(!is_folded("Abc"));
    }

    proptest! {
        #[test]
        fn fold_is_idempotent_and_folded(s in any::<String>()) {
            let f = fold(&s);
            prop_assert!(is_folded(&f), "{:?} -> {:?}", s, f);
            prop_assert_eq!(fold(&f), f.clone());
        }

        #[test]
        fn tokens_are_nonempty_words(s in "\\PC{0,40}") {
            for t in tokens(&s) {
                prop_assert!(!t.is_empty() && !t.contains(' '));
            }
        }
    }
}
