//! Parsing of the small textual forms the CLI accepts: record references
//! (`SOURCE:ID`) and `KEY=VALUE` pairs, and the display of references.

use kindred_proto::v1::RecordRef;

use crate::ClientError;

/// Parses `SOURCE:ID`, splitting at the first `:` (so record ids may
/// contain colons). Both parts must be non-empty after trimming.
pub fn parse_record_ref(s: &str) -> Result<RecordRef, ClientError> {
    let (source, id) = s.split_once(':').ok_or_else(|| {
        ClientError::InvalidInput(format!(
            "record reference {s:?} must be SOURCE:ID (e.g. crm:10042)"
        ))
    })?;
    let (source, id) = (source.trim(), id.trim());
    if source.is_empty() {
        return Err(ClientError::InvalidInput(format!(
            "record reference {s:?} has an empty source"
        )));
    }
    if id.is_empty() {
        return Err(ClientError::InvalidInput(format!(
            "record reference {s:?} has an empty record id"
        )));
    }
    Ok(RecordRef {
        source: source.to_string(),
        record_id: id.to_string(),
    })
}

/// Parses `KEY=VALUE`, splitting at the first `=`; the key must be
/// non-empty. `what` names the flag in the error (e.g. `--id`).
pub fn parse_key_value(s: &str, what: &str) -> Result<(String, String), ClientError> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| ClientError::InvalidInput(format!("{what} expects KEY=VALUE, got {s:?}")))?;
    let (k, v) = (k.trim(), v.trim());
    if k.is_empty() {
        return Err(ClientError::InvalidInput(format!(
            "{what} expects KEY=VALUE with a non-empty key, got {s:?}"
        )));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Formats a reference as `SOURCE:ID`; `-` when absent.
pub fn format_ref(r: Option<&RecordRef>) -> String {
    match r {
        Some(r) => format!("{}:{}", r.source, r.record_id),
        None => "-".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_colon() {
        let r = parse_record_ref("crm:10042").unwrap();
        assert_eq!((r.source.as_str(), r.record_id.as_str()), ("crm", "10042"));
        let r = parse_record_ref("web:urn:user:7").unwrap();
        assert_eq!(
            (r.source.as_str(), r.record_id.as_str()),
            ("web", "urn:user:7")
        );
        let r = parse_record_ref(" pos : 9 ").unwrap();
        assert_eq!((r.source.as_str(), r.record_id.as_str()), ("pos", "9"));
    }

    #[test]
    fn rejects_malformed_refs_as_invalid_input() {
        for bad in ["crm", "", ":42", "crm:", "  :  "] {
            let e = parse_record_ref(bad).unwrap_err();
            assert!(matches!(e, ClientError::InvalidInput(_)), "{bad:?}: {e:?}");
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn key_values_split_at_the_first_equals() {
        assert_eq!(
            parse_key_value("national_id=123=4", "--id").unwrap(),
            ("national_id".to_string(), "123=4".to_string())
        );
        assert_eq!(
            parse_key_value("note=", "--attr").unwrap(),
            ("note".to_string(), String::new())
        );
        let e = parse_key_value("novalue", "--id").unwrap_err();
        assert!(e.to_string().contains("--id"), "{e}");
        assert!(parse_key_value("=v", "--attr").is_err());
    }

    #[test]
    fn formats_refs() {
        let r = RecordRef {
            source: "crm".into(),
            record_id: "1".into(),
        };
        assert_eq!(format_ref(Some(&r)), "crm:1");
        assert_eq!(format_ref(None), "-");
    }
}
