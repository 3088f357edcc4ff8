//! Property tests of the CSV reader: random bytes never panic and fail with one line; random
//! well-formed tables read back exactly. `PROPTEST_CASES=100000` runs a longer search.

use lossatlas::{Columns, Dataset};
use proptest::prelude::*;

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    // Rejected cases grow with the case count; the default limit (1024) is absolute.
    ProptestConfig { cases, max_global_rejects: cases.max(1024), ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        for columns in [Columns::default(), Columns { inputs: None, target: Some("y") }] {
            if let Err(e) = Dataset::parse_table("t.csv", &bytes, columns) {
                let message = e.to_string();
                prop_assert!(!message.contains('\n'), "a multi-line error: {message}");
            }
        }
    }

    #[test]
    fn random_csv_like_text_never_panics(text in "[a-z0-9,.\\-e\\n ]{0,200}") {
        let names = ["a".to_string(), "b".to_string()];
        let _ = Dataset::parse_table("t.csv", text.as_bytes(), Columns { inputs: Some(&names), target: None });
        let _ = Dataset::parse_csv("t.csv", text.as_bytes(), None, None);
    }

    #[test]
    fn well_formed_tables_read_back_exactly(
        width in 2usize..6,
        rows in prop::collection::vec(prop::collection::vec(-1e6f64..1e6, 6), 2..40),
    ) {
        let names: Vec<String> = (0..width).map(|c| format!("col{c}")).collect();
        let mut text = names.join(",") + "\n";
        for row in &rows {
            let cells: Vec<String> = row[..width].iter().map(|v| format!("{v}")).collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        let inputs = &names[..width - 1];
        let data = Dataset::parse_table("t.csv", text.as_bytes(), Columns { inputs: Some(inputs), target: None })
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(data.len(), rows.len());
        prop_assert_eq!(data.input_names(), inputs);
        for (c, column) in data.inputs().iter().enumerate() {
            let want: Vec<f64> = rows.iter().map(|r| r[c]).collect();
            prop_assert_eq!(column, &want);
        }
        let want: Vec<f64> = rows.iter().map(|r| r[width - 1]).collect();
        prop_assert_eq!(data.y(), &want[..]);
    }
}
