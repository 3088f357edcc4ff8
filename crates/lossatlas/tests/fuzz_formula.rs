//! Property-based fuzzing of the formula parser and compiler through the public API: random text
//! and random token streams never panic and every error names a position inside the formula;
//! random valid expressions evaluate without panicking, and their exact first derivatives agree
//! with central finite differences wherever those are finite and well-conditioned.
//!
//! Cases per property: 2,000 by default; `PROPTEST_CASES=100000 cargo test --release -p lossatlas
//! --test fuzz_formula` runs a longer fuzz (README, "Bad input").

use lossatlas::Formula;
use proptest::prelude::*;

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    // Rejected cases grow with the case count; the default limit (1024) is absolute.
    ProptestConfig { cases, max_global_rejects: cases.max(1024), ..ProptestConfig::default() }
}

/// Pieces of the formula language and near misses of it.
const TOKENS: &[&str] = &[
    "x",
    "a",
    "b",
    "c",
    "k",
    "pi",
    "0",
    "1",
    "2.5",
    ".5",
    "1e3",
    "1e-3",
    "1e400",
    "+",
    "-",
    "*",
    "/",
    "^",
    "**",
    "(",
    ")",
    ",",
    "sin",
    "cos",
    "tan",
    "exp",
    "ln",
    "log",
    "log10",
    "sqrt",
    "abs",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "sinh",
    "cosh",
    "atan",
    "sign",
    "step",
    "pow",
    "foo",
    " ",
    "@",
    "é",
    "1e",
    "..",
    "_a",
    "a1",
    "99999999999999999999999",
    "\t",
    "\u{1b}",
    "=",
    "x2",
];

/// Runs the formula on a few points with `params`, through both evaluation programs; returns the
/// values (whatever they are: non-finite values are data).
fn evaluate(formula: &Formula, params: &[f64], xs: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; xs.len()];
    formula.eval(params, xs, &mut out);
    let mut out2 = vec![0.0; xs.len()];
    let mut jac = vec![0.0; params.len() * xs.len()];
    formula.eval_jacobian(params, xs, &mut out2, &mut jac);
    for (v, w) in out.iter().zip(&out2) {
        assert!(
            v.to_bits() == w.to_bits() || (v.is_nan() && w.is_nan()),
            "the two programs differ: {v} vs {w}"
        );
    }
    out
}

/// Parses `text`; an error must carry a position within the text (one past its end when the
/// text ends too early), or be about the nesting depth, which has no single position.
fn check_parse(text: &str) -> Option<Formula> {
    match Formula::parse(text) {
        Ok(formula) => Some(formula),
        Err(error) => {
            let chars = text.chars().count();
            match error.position {
                Some(p) => assert!(
                    (1..=chars + 1).contains(&p),
                    "position {p} outside `{text}` ({chars} characters): {error}"
                ),
                None => assert!(
                    error.message.contains("nested"),
                    "no position in the error for `{text}`: {error}"
                ),
            }
            assert!(!error.to_string().contains('\n'), "a multi-line error: {error}");
            None
        }
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,40}") {
        if let Some(formula) = check_parse(&text) {
            let params = vec![0.7; formula.params().len()];
            evaluate(&formula, &params, &[-1.0, 0.0, 2.0]);
        }
    }

    #[test]
    fn random_token_streams_never_panic(
        tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..30),
        spaced in any::<bool>(),
        values in prop::collection::vec(-3.0f64..3.0, 6),
    ) {
        let text = tokens.join(if spaced { " " } else { "" });
        if let Some(formula) = check_parse(&text) {
            // Unspaced tokens run together into new names (`sin` `x` is `sinx`), any number of them.
            if spaced {
                prop_assert!(formula.params().len() <= 4, "only a, b, c and k are parameters: {:?}", formula.params());
            }
            let params: Vec<f64> = (0..formula.params().len()).map(|k| values[k % 4]).collect();
            evaluate(&formula, &params, &[values[4], values[5], 0.0]);
        }
    }
}

/// A random valid expression over x, a and b, as text.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("a".to_string()),
        Just("b".to_string()),
        Just("pi".to_string()),
        (0.1f64..4.0).prop_map(|v| format!("{v:.3}")),
    ];
    leaf.prop_recursive(5, 24, 2, |inner| {
        let unary = prop::sample::select(
            &[
                "sin", "cos", "exp", "tanh", "sigmoid", "softplus", "atan", "sqrt", "ln", "abs", "sinh",
                "cosh", "tan", "relu", "log10",
            ][..],
        );
        prop_oneof![
            (unary, inner.clone()).prop_map(|(f, e)| format!("{f}({e})")),
            inner.clone().prop_map(|e| format!("-({e})")),
            (inner.clone(), prop::sample::select(&["+", "-", "*", "/"][..]), inner.clone())
                .prop_map(|(l, op, r)| format!("({l}){op}({r})")),
            (inner.clone(), -3i32..4).prop_map(|(e, n)| format!("({e})^{n}")),
            (inner.clone(), 0.5f64..2.5).prop_map(|(e, p)| format!("({e})^{p:.2}")),
            (inner.clone(), inner).prop_map(|(l, r)| format!("pow({l}, {r})")),
        ]
    })
}

/// The central difference of `f` along parameter `p` at step `h`.
fn central(formula: &Formula, params: &[f64], x: f64, p: usize, h: f64) -> f64 {
    let at = |delta: f64| {
        let mut shifted = params.to_vec();
        shifted[p] += delta;
        let mut out = [0.0];
        formula.eval(&shifted, &[x], &mut out);
        out[0]
    };
    (at(h) - at(-h)) / (2.0 * h)
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn valid_expressions_parse_and_their_derivatives_match_finite_differences(
        text in expression(),
        point in prop::collection::vec(-2.0f64..2.0, 3),
    ) {
        let formula = Formula::parse(&text).map_err(|e| TestCaseError::fail(format!("`{text}` did not parse: {e}")))?;
        let n = formula.params().len();
        let params = &point[..n];
        let x = point[2];
        let mut value = [0.0];
        let mut jac = vec![0.0; n];
        formula.eval_jacobian(params, &[x], &mut value, &mut jac);
        for p in 0..n {
            let h = 1e-5 * params[p].abs().max(1.0);
            let (coarse, fine) = (central(&formula, params, x, p, h), central(&formula, params, x, p, h / 2.0));
            let exact = jac[p];
            let scale = 1.0 + exact.abs() + coarse.abs();
            // Finite and well-conditioned: both steps agree (no kink, pole or overflow within h),
            // so the difference approximates the derivative to about h^2, and the value is small
            // enough that rounding it (about eps * |f| / h) does not swamp the difference (a
            // constant 1e14 beside `a` leaves nothing of a step of 1e-5).
            let rounding = f64::EPSILON * value[0].abs() / h;
            let conditioned = [value[0], coarse, fine, exact].iter().all(|v| v.is_finite())
                && (coarse - fine).abs() <= 1e-6 * scale
                && rounding <= 1e-7 * scale
                // The step moves the value a little, so f is close to linear across it (sin of
                // 1e9 * a oscillates many times within any step a difference can take).
                && exact.abs() * h <= 1e-3 * (1.0 + value[0].abs());
            if conditioned {
                prop_assert!(
                    (exact - fine).abs() <= 1e-5 * scale,
                    "d/d{} of `{}` at {:?}, x = {}: exact {} vs finite difference {}",
                    formula.params()[p], text, params, x, exact, fine
                );
            }
        }
    }
}

#[test]
fn a_known_derivative_is_checked_at_all() {
    // The property above skips ill-conditioned points; make sure a plain case is not skipped and
    // that the comparison can fail: d/da of sin(a*x) at a = 0.5, x = 2 is 2*cos(1).
    let formula = Formula::parse("sin(a*x)").unwrap();
    let (mut value, mut jac) = ([0.0], [0.0]);
    formula.eval_jacobian(&[0.5], &[2.0], &mut value, &mut jac);
    assert!((jac[0] - 2.0 * 1f64.cos()).abs() < 1e-12);
    assert!((central(&formula, &[0.5], 2.0, 0, 1e-5) - 2.0 * 1f64.cos()).abs() < 1e-8);
}
