//! Property-based fuzzing of the optimizer spec parser (`--optimizer NAME:key=value,...`): random
//! text never panics and whatever parses is valid; well-formed specs parse to exactly the
//! settings they give; a setting given twice, an unknown setting or a value that is not a finite
//! number is refused with a message naming it.
//!
//! Cases per property: 3,000 by default; set PROPTEST_CASES for a longer run (README, "Bad input").

use lossatlas::{OptimizerSpec, OPTIMIZER_NAMES};
use proptest::prelude::*;

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    // Rejected cases grow with the case count; the default limit (1024) is absolute.
    ProptestConfig { cases, max_global_rejects: cases.max(1024), ..ProptestConfig::default() }
}

/// Whether `value` is allowed for `key` (torch's ranges, as the parser documents them).
fn allowed(key: &str, value: f64) -> bool {
    value.is_finite()
        && match key {
            "lr" => value > 0.0,
            "momentum" | "dampening" | "alpha" | "beta1" | "beta2" => (0.0..1.0).contains(&value),
            _ => value >= 0.0,
        }
}

/// An optimizer name and a value for each of a random subset of its settings, in random order.
fn well_formed() -> impl Strategy<Value = (String, Vec<(String, f64)>)> {
    prop::sample::select(&OPTIMIZER_NAMES[..]).prop_flat_map(|name| {
        let keys: Vec<String> = OptimizerSpec::parse(name)
            .expect("bare names parse")
            .settings()
            .into_iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| k != "centered")
            .collect();
        let n = keys.len();
        (Just(name.to_string()), Just(keys).prop_shuffle(), 0..=n, prop::collection::vec(0.0f64..0.999, n))
            .prop_map(|(name, keys, count, values)| {
                let settings = keys.into_iter().zip(values).take(count).collect::<Vec<_>>();
                (name, settings)
            })
    })
}

fn spec_text(name: &str, settings: &[(String, f64)]) -> String {
    let items: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if items.is_empty() {
        name.to_string()
    } else {
        format!("{name}:{}", items.join(","))
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn random_text_never_panics_and_what_parses_is_valid(text in "[a-z:=,.0-9eE+ -]{0,40}|\\PC{0,30}") {
        match OptimizerSpec::parse(&text) {
            Ok(spec) => {
                prop_assert!(OPTIMIZER_NAMES.contains(&spec.name()));
                for (key, value) in spec.settings() {
                    prop_assert!(allowed(key, value), "`{}` gave {} = {}", text, key, value);
                }
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(!message.is_empty() && !message.contains('\n'), "{:?}", message);
            }
        }
    }

    #[test]
    fn well_formed_specs_parse_to_the_settings_they_give((name, settings) in well_formed()) {
        let text = spec_text(&name, &settings);
        let valid = settings.iter().all(|(k, v)| allowed(k, *v));
        match OptimizerSpec::parse(&text) {
            Ok(spec) => {
                prop_assert!(valid, "`{}` was accepted", text);
                prop_assert_eq!(spec.name(), name.as_str());
                let parsed = spec.settings();
                for (key, value) in &settings {
                    let got = parsed.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
                    prop_assert_eq!(got, Some(*value), "{} in `{}`", key, text);
                }
            }
            Err(error) => prop_assert!(!valid, "`{}` was refused: {}", text, error),
        }
    }

    #[test]
    fn a_setting_given_twice_is_refused((name, settings) in well_formed(), second in 0.0f64..0.999) {
        prop_assume!(!settings.is_empty());
        let mut twice = settings.clone();
        twice.push((settings[0].0.clone(), second));
        let text = spec_text(&name, &twice);
        let message = OptimizerSpec::parse(&text).expect_err("a repeated setting").to_string();
        prop_assert!(message.contains(&format!("`{}` twice", settings[0].0)), "{}", message);
    }

    #[test]
    fn unknown_settings_and_bad_values_are_refused_by_name(
        name in prop::sample::select(&OPTIMIZER_NAMES[..]),
        key in "[a-z_]{1,12}",
        value in prop_oneof![Just("nan".to_string()), Just("inf".to_string()), Just("-inf".to_string()), "[a-z]{1,6}", Just("1e999".to_string())],
    ) {
        let known = OptimizerSpec::parse(name).unwrap().settings().iter().any(|(k, _)| *k == key);
        let unknown = OptimizerSpec::parse(&format!("{name}:{key}=0.5"));
        if !known {
            let message = unknown.expect_err("an unknown setting").to_string();
            prop_assert!(message.contains(&format!("no setting `{key}`")), "{}", message);
        }
        let message = OptimizerSpec::parse(&format!("{name}:lr={value}")).expect_err("a bad value").to_string();
        prop_assert!(message.contains(&format!("`{value}`")), "{}", message);
    }
}
