//! Email addresses: validates an address's shape (RFC-lite) and returns it
//! in one canonical lowercase form, optionally applying mail providers'
//! aliasing rules (Gmail ignores dots; most providers ignore "+tag").

/// Why an email address could not be standardised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailError {
    /// Nothing but whitespace.
    Empty,
    /// Not a plausible address; the message says why.
    Invalid(String),
}

impl std::fmt::Display for EmailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmailError::Empty => f.write_str("empty email"),
            EmailError::Invalid(why) => write!(f, "invalid email: {why}"),
        }
    }
}

impl std::error::Error for EmailError {}

fn invalid(why: &str) -> EmailError {
    EmailError::Invalid(why.to_owned())
}

/// Characters allowed in the local part besides letters and digits
/// (RFC 5322 "atext" plus the dot).
fn local_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '.' | '!'
                | '#'
                | '$'
                | '%'
                | '&'
                | '\''
                | '*'
                | '+'
                | '/'
                | '='
                | '?'
                | '^'
                | '_'
                | '`'
                | '{'
                | '|'
                | '}'
                | '~'
                | '-'
        )
        || (!c.is_ascii() && c.is_alphanumeric())
}

fn domain_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
}

fn check_local(local: &str) -> Result<(), EmailError> {
    if local.is_empty() {
        return Err(invalid("empty local part"));
    }
    if local.len() > 64 {
        return Err(invalid("local part longer than 64 characters"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(invalid("misplaced dot in local part"));
    }
    match local.chars().find(|&c| !local_char_ok(c)) {
        Some(c) => Err(EmailError::Invalid(format!(
            "character {c:?} not allowed in local part"
        ))),
        None => Ok(()),
    }
}

fn check_domain(domain: &str) -> Result<(), EmailError> {
    if domain.is_empty() {
        return Err(invalid("empty domain"));
    }
    if domain.len() > 253 {
        return Err(invalid("domain longer than 253 characters"));
    }
    let mut labels = 0;
    let mut last = "";
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(invalid("empty label in domain"));
        }
        if label.len() > 63 {
            return Err(invalid("domain label longer than 63 characters"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid("domain label starts or ends with '-'"));
        }
        if let Some(c) = label.chars().find(|&c| !domain_char_ok(c)) {
            return Err(EmailError::Invalid(format!(
                "character {c:?} not allowed in domain"
            )));
        }
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return Err(invalid("domain has no dot"));
    }
    let tld_ok = last.starts_with("xn--")
        || (last.chars().count() >= 2 && last.chars().all(char::is_alphabetic));
    if !tld_ok {
        return Err(invalid("implausible top-level domain"));
    }
    Ok(())
}

fn is_yahoo(domain: &str) -> bool {
    domain
        .split('.')
        .next()
        .is_some_and(|first| matches!(first, "yahoo" | "ymail" | "rocketmail"))
}

/// The address of a mailbox written with a display name, as mail headers
/// do: `Maria Sentosa <msentosa@example.com>`, `"Jones, Jay" <jj@example.com>`,
/// `<bob@example.org>`, or with a trailing comment,
/// `msentosa@example.com (Maria Sentosa)`. Text without either form is
/// returned unchanged.
fn strip_display_name(t: &str) -> Result<&str, EmailError> {
    if let Some(head) = t.strip_suffix('>') {
        let open = head.rfind('<').ok_or_else(|| invalid("'>' without '<'"))?;
        let name = head[..open].trim();
        if name.contains(['<', '>']) || (name.contains('@') && !is_quoted(name)) {
            return Err(invalid("more than one address"));
        }
        return Ok(head[open + 1..].trim());
    }
    if let Some(head) = t.strip_suffix(')') {
        if let Some(open) = head.rfind('(') {
            let comment = &head[open + 1..];
            if !comment.contains('@') && !head[..open].trim().is_empty() {
                return Ok(head[..open].trim());
            }
        }
    }
    Ok(t)
}

/// A display name in double quotes (which may hold any character).
fn is_quoted(name: &str) -> bool {
    name.len() >= 2 && name.starts_with('"') && name.ends_with('"')
}

/// Trim, lowercase and validate the shape `local@domain.tld`
/// (one `@`, non-empty local part of allowed characters without stray dots,
/// a domain of at least two labels with an alphabetic TLD). A display name
/// (`Maria Sentosa <msentosa@example.com>`, `"Jay Jones" <jj@example.com>`),
/// a trailing `(comment)`, a surrounding `<...>` or a `mailto:` prefix is
/// removed.
///
/// With `provider_rules`, addresses are mapped to the mailbox they deliver
/// to: for gmail.com/googlemail.com dots in the local part are dropped and
/// the domain becomes gmail.com; for every provider except Yahoo (whose
/// "-keyword" disposable addresses cannot be mapped back to the account) a
/// "+tag" suffix of the local part is dropped.
pub fn normalize_email(s: &str, provider_rules: bool) -> Result<String, EmailError> {
    let mut t = s.trim();
    if t.is_empty() {
        return Err(EmailError::Empty);
    }
    t = strip_display_name(t)?;
    if t.len() >= 7 && t.is_char_boundary(7) && t[..7].eq_ignore_ascii_case("mailto:") {
        t = t[7..].trim();
    }
    if t.is_empty() {
        return Err(EmailError::Empty);
    }
    if t.len() > 254 {
        return Err(invalid("longer than 254 characters"));
    }
    let lower = if t.is_ascii() {
        t.to_ascii_lowercase()
    } else {
        t.to_lowercase()
    };
    let (local, domain) = match lower.split_once('@') {
        Some((l, d)) if !d.contains('@') => (l, d),
        Some(_) => return Err(invalid("more than one '@'")),
        None => return Err(invalid("no '@'")),
    };
    check_local(local)?;
    check_domain(domain)?;
    if !provider_rules {
        return Ok(lower);
    }

    let gmail = matches!(domain, "gmail.com" | "googlemail.com");
    let domain = if gmail { "gmail.com" } else { domain };
    let mut local = local;
    if !is_yahoo(domain) {
        if let Some((base, _tag)) = local.split_once('+') {
            // keep the tag if dropping it would leave an invalid address ("a.+x")
            if check_local(base).is_ok() {
                local = base;
            }
        }
    }
    let mut out = String::with_capacity(local.len() + 1 + domain.len());
    if gmail {
        out.extend(local.chars().filter(|&c| c != '.'));
        if out.is_empty() {
            return Err(invalid("empty local part"));
        }
    } else {
        out.push_str(local);
    }
    out.push('@');
    out.push_str(domain);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str, rules: bool) -> String {
        match normalize_email(s, rules) {
            Ok(e) => e,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    fn is_invalid(s: &str) -> bool {
        matches!(normalize_email(s, false), Err(EmailError::Invalid(_)))
    }

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(
            ok("  John.Smith@Example.COM ", false),
            "john.smith@example.com"
        );
        assert_eq!(ok("<bob@example.org>", false), "bob@example.org");
        assert_eq!(ok("mailto:Bob@Example.org", false), "bob@example.org");
        assert_eq!(
            ok("o'brien+news@mail.example.co.uk", false),
            "o'brien+news@mail.example.co.uk"
        );
    }

    #[test]
    fn display_names_are_read() {
        assert_eq!(
            ok("Maria Sentosa <MSentosa@example.com>", false),
            "msentosa@example.com"
        );
        assert_eq!(
            ok("\"Jay Jones\" <jj@example.com>", false),
            "jj@example.com"
        );
        assert_eq!(
            ok("\"Jones, Jay (work)\" <jj@example.com>", false),
            "jj@example.com"
        );
        assert_eq!(
            ok("\"jj@old.com\" <jj@example.com>", false),
            "jj@example.com"
        );
        assert_eq!(
            ok("msentosa@example.com (Maria Sentosa)", false),
            "msentosa@example.com"
        );
        assert_eq!(ok("Jay <mailto:JJ@example.com>", false), "jj@example.com");
        for bad in [
            "Jay <jj@example.com",
            "Jay jj@example.com>",
            "a@b.com <jj@example.com>",
            "Jay <jj>",
        ] {
            assert!(is_invalid(bad), "{bad:?} should be invalid");
        }
        assert_eq!(normalize_email("Jay <  >", false), Err(EmailError::Empty));
        assert_eq!(normalize_email("Jay <>", false), Err(EmailError::Empty));
    }

    #[test]
    fn empty_and_invalid() {
        assert_eq!(normalize_email("", false), Err(EmailError::Empty));
        assert_eq!(normalize_email("   ", true), Err(EmailError::Empty));
        for bad in [
            "bob",
            "bob@",
            "@example.com",
            "bob@example",
            "bob@@example.com",
            "bob@ex@ample.com",
            "bob@example.c",
            "bob@example.123",
            ".bob@example.com",
            "bob.@example.com",
            "bo..b@example.com",
            "bob smith@example.com",
            "bob@exa mple.com",
            "bob@-example.com",
            "bob@example..com",
            "bob@.example.com",
            "bob@example.com.",
            "bob(at)example.com",
            "n/a",
        ] {
            assert!(is_invalid(bad), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn unicode_domains_and_punycode() {
        assert_eq!(ok("José@Exämple.ES", false), "josé@exämple.es");
        assert_eq!(ok("a@example.xn--p1ai", false), "a@example.xn--p1ai");
    }

    #[test]
    fn provider_rules() {
        assert_eq!(
            ok("J.O.H.N.Smith+promo@GoogleMail.com", true),
            "johnsmith@gmail.com"
        );
        assert_eq!(ok("john.smith@gmail.com", true), "johnsmith@gmail.com");
        assert_eq!(
            ok("john.smith+x@outlook.com", true),
            "john.smith@outlook.com"
        );
        assert_eq!(ok("john+x@hotmail.co.uk", true), "john@hotmail.co.uk");
        assert_eq!(ok("john+x@example.com", true), "john@example.com");
        // yahoo's "-keyword" aliases and any "+" are left alone
        assert_eq!(ok("john-shop@yahoo.com", true), "john-shop@yahoo.com");
        assert_eq!(ok("john+x@yahoo.com.au", true), "john+x@yahoo.com.au");
        // a tag is kept when dropping it would leave an invalid address
        assert_eq!(ok("+tag@example.com", true), "+tag@example.com");
        assert_eq!(ok("a.+tag@example.com", true), "a.+tag@example.com");
        // without provider rules nothing changes
        assert_eq!(
            ok("john.smith+x@gmail.com", false),
            "john.smith+x@gmail.com"
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>(), rules in any::<bool>()) {
            let _ = normalize_email(&s, rules);
        }

        #[test]
        fn idempotent(local in "[a-zA-Z0-9._+-]{1,20}", dom in "[a-z]{1,10}\\.(com|org|com\\.au)", rules in any::<bool>()) {
            let s = format!("{local}@{dom}");
            if let Ok(e) = normalize_email(&s, rules) {
                prop_assert_eq!(normalize_email(&e, rules), Ok(e.clone()));
                prop_assert_eq!(e.clone(), e.to_lowercase());
            }
        }
    }
}
