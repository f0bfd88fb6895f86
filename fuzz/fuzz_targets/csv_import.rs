//! A hostile input file through the import reader (CSV and JSON Lines)
//! with a fixed mapping: every row is a record or a reject, never a panic.
#![no_main]

use kindred_client::import::reader::{open_rows, InputFormat};
use kindred_proto::mapping::Mapping;
use libfuzzer_sys::fuzz_target;

const MAPPING: &str = r#"
record_id = "id"
[fields]
given_name = "given"
family_name = "family"
date_of_birth = { column = "dob", formats = ["%Y%m%d"] }
email = ["email", "email2"]
"#;

fuzz_target!(|data: &[u8]| {
    let mapping = Mapping::from_toml(MAPPING).expect("the fixed mapping parses");
    for format in [InputFormat::Csv, InputFormat::Jsonl] {
        let mut input = b"id,given,family,dob,email,email2\n".to_vec();
        if format == InputFormat::Jsonl {
            input.clear();
        }
        input.extend_from_slice(data);
        if let Ok(rows) = open_rows(std::io::Cursor::new(input), format, mapping.clone(), "fuzz") {
            for row in rows.take(10_000) {
                let _ = row;
            }
        }
    }
});
