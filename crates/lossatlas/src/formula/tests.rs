//! Tests of the formula language: values, derivatives against finite differences, parameter
//! order, errors with positions, closed-form detection and printing.

use super::*;

fn f(source: &str) -> Formula {
    Formula::parse(source).unwrap_or_else(|e| panic!("{e}"))
}

fn err(source: &str) -> FormulaError {
    Formula::parse(source).expect_err(source)
}

/// Evenly spread samples in [lo, hi], enough to cross several chunks.
fn samples(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * (a.abs().max(b.abs()).max(1e-3))
}

#[test]
fn values_at_hand_computed_points() {
    let (a, b, x): (f64, f64, f64) = (1.2, 2.5, 0.3);
    let g = f("sin(b*cos(a*x))");
    assert_eq!(g.params(), ["b", "a"]);
    let expected = (b * (a * x).cos()).sin();
    assert!(close(g.eval_at(&[b, a], x), expected, 1e-15), "{} vs {expected}", g.eval_at(&[b, a], x));

    let cases: [(&str, [f64; 2], f64, f64); 12] = [
        ("k*x+b", [0.8, 1.5], 2.0, 3.1),
        ("a*x^3 + b*x^2", [2.0, -1.0], -1.5, 2.0 * -3.375 - 2.25),
        ("tanh(k*x+b)", [0.5, -0.25], 1.5, 0.5f64.tanh()),
        ("sigmoid(k*x + b)", [1.0, 0.0], 0.0, 0.5),
        ("relu(k*x + b)", [1.0, -1.0], 0.5, 0.0),
        ("relu(k*x + b)", [1.0, -1.0], 3.0, 2.0),
        ("softplus(k*x + b)", [1.0, 0.0], 0.0, std::f64::consts::LN_2),
        ("-x^2*a + b", [1.0, 0.0], 3.0, -9.0),
        ("2^-x*a + b", [1.0, 0.0], 2.0, 0.25),
        ("a*pi + b**2", [2.0, 3.0], 0.0, 2.0 * std::f64::consts::PI + 9.0),
        ("log(a*x) + log10(b)", [1.0, 1000.0], std::f64::consts::E, 4.0),
        ("pow(x, a) + sqrt(b) * abs(x)", [0.5, 16.0], -4.0, f64::NAN),
    ];
    for (source, params, x, expected) in cases {
        let got = f(source).eval_at(&params, x);
        assert!(
            close(got, expected, 1e-14) || (got.is_nan() && expected.is_nan()),
            "{source} at {params:?}, x = {x}: {got} vs {expected}"
        );
    }
}

#[test]
fn integer_powers_are_exact_multiplications() {
    let g = f("a*x^3 + b*x^-2");
    let x = -1.7f64;
    assert_eq!(g.eval_at(&[1.0, 0.0], x), x * (x * x));
    assert_eq!(g.eval_at(&[0.0, 1.0], x), 1.0 / (x * x));
    assert_eq!(g.eval_at(&[1.0, 0.0], -2.0), -8.0);
    // A fractional power of a negative number is NaN, as with powf.
    assert!(f("x^a + b").eval_at(&[0.5, 0.0], -4.0).is_nan());
}

#[test]
fn slices_match_pointwise_evaluation_across_chunks() {
    for source in ["sin(b*cos(a*x))", "tanh(k*x+b)", "a*x^3 + b*x^2", "exp(a)*x + ln(b)", "k*x + b"] {
        let g = f(source);
        let params = [0.7, 1.3];
        let xs = samples(-3.0, 3.0, 1001);
        let mut out = vec![0.0; xs.len()];
        g.eval(&params, &xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            assert_eq!(y.to_bits(), g.eval_at(&params, x).to_bits(), "{source} at {x}");
        }
        // The value computed alongside derivatives is the same number.
        let (mut out2, mut jac, mut hess) =
            (vec![0.0; xs.len()], vec![0.0; 2 * xs.len()], vec![0.0; 4 * xs.len()]);
        g.eval_hessian(&params, &xs, &mut out2, &mut jac, &mut hess);
        assert_eq!(out, out2, "{source}");
        let mut jac2 = vec![0.0; 2 * xs.len()];
        g.eval_jacobian(&params, &xs, &mut out2, &mut jac2);
        assert_eq!(out, out2, "{source}");
        assert_eq!(jac, jac2, "{source}");
    }
}

#[test]
fn empty_input_is_fine() {
    let g = f("tanh(k*x+b)");
    g.eval(&[1.0, 2.0], &[], &mut []);
    g.eval_hessian(&[1.0, 2.0], &[], &mut [], &mut [], &mut []);
}

#[test]
fn non_finite_values_propagate() {
    let g = f("ln(a*x) + b");
    let mut out = [0.0; 4];
    g.eval(&[1.0, 0.0], &[-1.0, 0.0, f64::NAN, f64::INFINITY], &mut out);
    assert!(out[0].is_nan());
    assert_eq!(out[1], f64::NEG_INFINITY);
    assert!(out[2].is_nan());
    assert_eq!(out[3], f64::INFINITY);
    let g = f("tanh(k*x+b)");
    g.eval(&[1.0, 0.0], &[f64::NAN, 1e300, -1e300, 0.0], &mut out);
    assert!(out[0].is_nan());
    assert_eq!(&out[1..], &[1.0, -1.0, 0.0]);
    let g = f("relu(k*x) + sign(b*x)");
    g.eval(&[1.0, 1.0], &[f64::NAN, -2.0, 0.0, 2.0], &mut out);
    assert!(out[0].is_nan());
    assert_eq!(&out[1..], &[-1.0, 0.0, 3.0]);
}

#[test]
fn evaluation_is_thread_safe() {
    let g = f("sin(b*cos(a*x)) + tanh(a*x - b)");
    let xs = samples(-2.0, 2.0, 777);
    let mut expected = vec![0.0; xs.len()];
    g.eval(&[0.3, 1.1], &xs, &mut expected);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut out = vec![0.0; xs.len()];
                for _ in 0..50 {
                    g.eval(&[0.3, 1.1], &xs, &mut out);
                    assert_eq!(out, expected);
                }
            });
        }
    });
}

/// Formulas with two parameters, parameter values and samples away from kinks and poles.
const DERIVATIVE_CASES: &[(&str, [f64; 2], f64, f64)] = &[
    ("k*x+b", [0.8, 1.5], -2.0, 2.0),
    ("a*x^3 + b*x^2", [0.7, -1.2], -2.0, 2.0),
    ("sin(b*cos(a*x))", [2.5, 1.2], -2.0, 2.0),
    ("tanh(k*x+b)", [0.9, -0.4], -2.0, 2.0),
    ("sigmoid(k*x+b)", [1.3, 0.2], -3.0, 3.0),
    ("softplus(k*x - b)", [1.1, 0.5], -3.0, 3.0),
    ("relu(k*x + b)*x", [1.0, 0.55], 0.1, 2.0),
    ("exp(-a*x^2)*b", [0.6, 1.7], -2.0, 2.0),
    ("ln(a*x^2 + b)", [0.8, 0.9], -2.0, 2.0),
    ("log10(a + b*x^2)", [1.5, 0.4], -2.0, 2.0),
    ("sqrt(a^2 + (b*x)^2)", [0.7, 1.3], -2.0, 2.0),
    ("abs(a*x - b) + a", [1.0, 3.0], -2.0, 2.0),
    ("tan(a*x)/b", [0.5, 1.5], -2.0, 2.0),
    ("sinh(a*x) + cosh(b*x)", [0.7, 0.4], -2.0, 2.0),
    ("atan(a*x + b)", [1.2, -0.3], -2.0, 2.0),
    ("x^a * b", [1.7, 0.8], 0.2, 3.0),
    ("a^x + b", [1.8, 0.4], -2.0, 2.0),
    ("pow(a, b*x)", [2.2, 0.6], -2.0, 2.0),
    ("a/(1 + b*x^2)", [1.4, 0.6], -2.0, 2.0),
    ("(a*x + b)^-2", [0.5, 2.0], -1.5, 2.0),
    ("-a*x^2 + b/x", [0.9, 1.1], 0.3, 2.0),
    ("a^b + x", [1.6, 1.3], -1.0, 1.0),
    ("exp(a)*x + ln(b)", [0.3, 2.0], -2.0, 2.0),
    ("2^(a*x) - b*pi", [0.7, 0.2], -2.0, 2.0),
    ("cos(a)^2*x + b**3", [0.8, 1.2], -1.0, 1.0),
    ("sign(x)*a + b^2*x", [0.8, 1.2], 0.1, 1.0),
    ("x^2.5*a + exp(b*x)/(a + b)", [1.3, 0.6], 0.1, 2.0),
];

/// Central differences of `g` along parameter `p`, over all samples.
fn central_difference(
    g: impl Fn(&[f64], &mut [f64]),
    params: [f64; 2],
    p: usize,
    m: usize,
) -> (Vec<f64>, f64) {
    let h = 1e-5 * params[p].abs().max(1.0);
    let (mut up, mut down) = (params, params);
    up[p] += h;
    down[p] -= h;
    let (mut fu, mut fd) = (vec![0.0; m], vec![0.0; m]);
    g(&up, &mut fu);
    g(&down, &mut fd);
    (fu.iter().zip(&fd).map(|(u, d)| (u - d) / (2.0 * h)).collect(), h)
}

#[test]
fn first_and_second_derivatives_match_finite_differences() {
    for &(source, params, lo, hi) in DERIVATIVE_CASES {
        let g = f(source);
        assert_eq!(g.params().len(), 2, "{source}");
        let xs = samples(lo, hi, 37);
        let m = xs.len();
        let (mut out, mut jac, mut hess) = (vec![0.0; m], vec![0.0; 2 * m], vec![0.0; 4 * m]);
        g.eval_hessian(&params, &xs, &mut out, &mut jac, &mut hess);
        for p in 0..2 {
            // df/dp against differences of f.
            let (fd, _) = central_difference(|q, o| g.eval(q, &xs, o), params, p, m);
            for i in 0..m {
                let exact = jac[p * m + i];
                assert!(
                    close(exact, fd[i], 1e-6),
                    "{source}: d/d{} at x = {}: {exact} vs {}",
                    g.params()[p],
                    xs[i],
                    fd[i]
                );
            }
            // d2f/dp dq against differences of the exact df/dq.
            for q in 0..2 {
                let jacobian_row = |params: &[f64], o: &mut [f64]| {
                    let (mut v, mut j) = (vec![0.0; m], vec![0.0; 2 * m]);
                    g.eval_jacobian(params, &xs, &mut v, &mut j);
                    o.copy_from_slice(&j[q * m..(q + 1) * m]);
                };
                let (fd, _) = central_difference(jacobian_row, params, p, m);
                for i in 0..m {
                    let exact = hess[(p * 2 + q) * m + i];
                    assert!(
                        close(exact, fd[i], 1e-6),
                        "{source}: d2/d{}d{} at x = {}: {exact} vs {}",
                        g.params()[p],
                        g.params()[q],
                        xs[i],
                        fd[i]
                    );
                }
            }
        }
        // The Hessian is symmetric.
        for i in 0..m {
            assert_eq!(hess[m + i], hess[2 * m + i], "{source}");
        }
    }
}

#[test]
fn second_derivatives_of_f_twice_differenced() {
    // Independent of the Jacobian: second differences of f itself, with a looser tolerance.
    for &(source, params, lo, hi) in DERIVATIVE_CASES {
        let g = f(source);
        let xs = samples(lo, hi, 11);
        let m = xs.len();
        let (mut out, mut jac, mut hess) = (vec![0.0; m], vec![0.0; 2 * m], vec![0.0; 4 * m]);
        g.eval_hessian(&params, &xs, &mut out, &mut jac, &mut hess);
        let h = 1e-4;
        let at = |dp: f64, dq: f64, i: usize| g.eval_at(&[params[0] + dp, params[1] + dq], xs[i]);
        for i in 0..m {
            let fpp = (at(h, 0.0, i) - 2.0 * at(0.0, 0.0, i) + at(-h, 0.0, i)) / (h * h);
            let fqq = (at(0.0, h, i) - 2.0 * at(0.0, 0.0, i) + at(0.0, -h, i)) / (h * h);
            let fpq = (at(h, h, i) - at(h, -h, i) - at(-h, h, i) + at(-h, -h, i)) / (4.0 * h * h);
            for (exact, fd) in [(hess[i], fpp), (hess[3 * m + i], fqq), (hess[m + i], fpq)] {
                assert!(
                    (exact - fd).abs() <= 1e-4 * exact.abs().max(1.0),
                    "{source} at x = {}: {exact} vs {fd}",
                    xs[i]
                );
            }
        }
    }
}

#[test]
fn relu_derivatives_are_steps() {
    let g = f("relu(k*x + b)");
    let xs = [-2.0, -1.0, 0.5, 2.0];
    let (mut out, mut jac, mut hess) = ([0.0; 4], [0.0; 8], [0.0; 16]);
    g.eval_hessian(&[1.0, 1.0], &xs, &mut out, &mut jac, &mut hess);
    assert_eq!(out, [0.0, 0.0, 1.5, 3.0]);
    // k*x + b <= 0 gives 0 (also at the kink x = -1), above it x and 1.
    assert_eq!(jac, [0.0, 0.0, 0.5, 2.0, 0.0, 0.0, 1.0, 1.0]);
    assert!(hess.iter().all(|&h| h == 0.0));
}

#[test]
fn parameters_in_order_of_first_appearance() {
    assert_eq!(f("a*x^3 + b*x^2").params(), ["a", "b"]);
    assert_eq!(f("sin(b*cos(a*x))").params(), ["b", "a"]);
    assert_eq!(f("k*x + b").params(), ["k", "b"]);
    assert_eq!(f("b + x*k").params(), ["b", "k"]);
    assert_eq!(f("w_1*x + w_1^2 + pi").params(), ["w_1"]);
    assert!(f("2*x + pi").params().is_empty());
}

#[test]
fn parse_with_params_reorders() {
    let g = Formula::parse_with_params("sin(b*cos(a*x))", &["a", "b"]).unwrap();
    assert_eq!(g.params(), ["a", "b"]);
    let h = f("sin(b*cos(a*x))");
    assert_eq!(g.eval_at(&[1.2, 2.5], 0.3), h.eval_at(&[2.5, 1.2], 0.3));
    assert_eq!(g.derivative_text(0), h.derivative_text(1));
    let k = Formula::parse_with_params("k*x + b", &["b", "k"]).unwrap();
    assert_eq!(k.linear_form(), Some((1, 0)));
}

#[test]
fn parse_with_params_names_unknown_and_missing_variables() {
    let e = Formula::parse_with_params("k*x+b+c", &["k", "b"]).unwrap_err();
    assert_eq!(e.position, Some(7));
    assert!(e.message.starts_with("unknown variable `c` at position 7"), "{e}");
    let e = Formula::parse_with_params("k*x", &["k", "b"]).unwrap_err();
    assert_eq!(e.to_string(), "formula `k*x`: parameter `b` does not occur in the formula");
    let e = Formula::parse_with_params("k*x", &["k", "k"]).unwrap_err();
    assert!(e.message.contains("listed twice"), "{e}");
    for bad in ["x", "pi", "sin", "2k", ""] {
        let e = Formula::parse_with_params("k*x", &["k", bad]).unwrap_err();
        assert_eq!(e.position, None, "{e}");
    }
}

#[test]
fn errors_name_their_position() {
    let cases: &[(&str, usize, &str)] = &[
        ("sin(b*cos(a*x)", 15, "expected `)` at position 15 to close the `(` of `sin` at position 4"),
        ("foo(x)+k", 1, "unknown function `foo` at position 1 (known: sin, cos, tan"),
        ("k(x) + b", 1, "unknown function `k` at position 1"),
        ("sin + x", 1, "function `sin` at position 1 needs its argument in parentheses"),
        ("k*sin(x, b)", 3, "function `sin` at position 3 takes 1 argument, found 2"),
        ("pow(x)", 1, "function `pow` at position 1 takes 2 arguments, found 1"),
        ("k*x $ b", 5, "unexpected character `$` at position 5"),
        ("k*x +", 6, "unexpected end of formula at position 6"),
        ("", 1, "unexpected end of formula at position 1"),
        ("   ", 4, "unexpected end of formula at position 4"),
        ("2x", 2, "expected an operator before `x` at position 2"),
        ("k*x)", 4, "unmatched `)` at position 4"),
        ("(k*x", 5, "expected `)` at position 5 to close the `(` at position 1"),
        ("1.2.3*x", 1, "invalid number `1.2.3` at position 1"),
        ("k*1e*x", 3, "invalid number `1e` at position 3"),
        ("k**", 4, "unexpected end of formula at position 4"),
        ("k*/x", 3, "unexpected `/` at position 3"),
        ("sin()", 5, "unexpected `)` at position 5"),
        ("é*x", 1, "unexpected character `é` at position 1"),
        ("k*x,b", 4, "unexpected `,` at position 4"),
    ];
    for &(source, position, start) in cases {
        let e = err(source);
        assert_eq!(e.position, Some(position), "{source}: {e}");
        assert!(e.message.starts_with(start), "{source}: {}", e.message);
        assert_eq!(e.source_text, source);
        let line = e.to_string();
        assert!(line.starts_with(&format!("formula `{source}`: ")) && !line.contains('\n'), "{line}");
    }
}

#[test]
fn deep_formulas_are_refused_without_overflowing_the_stack() {
    let nested = format!("{}x{}", "(".repeat(500), ")".repeat(500));
    let e = err(&nested);
    assert!(e.message.contains("nests too deeply"), "{e}");
    let long = vec!["x"; 1500].join("+");
    let e = err(&long);
    assert!(e.message.contains("too long"), "{e}");
    assert!(Formula::parse(&vec!["x"; 200].join("+")).is_ok());
}

#[test]
fn linear_form_is_detected_only_for_slope_times_x_plus_intercept() {
    assert_eq!(f("k*x+b").linear_form(), Some((0, 1)));
    assert_eq!(f("k*x + b").linear_form(), Some((0, 1)));
    assert_eq!(f("b + x*k").linear_form(), Some((1, 0)));
    assert_eq!(f("x*k + b").linear_form(), Some((0, 1)));
    assert_eq!(f("b + k*x").linear_form(), Some((1, 0)));
    for source in ["tanh(k*x+b)", "k*x*x+b", "k*x+k", "k*x - b", "2*k*x + b", "k*x", "k*x + b + 1", "k*b + x"]
    {
        assert_eq!(f(source).linear_form(), None, "{source}");
    }
}

#[test]
fn derivatives_print_simplified() {
    let g = f("k*x+b");
    assert_eq!(g.derivative_text(0), "x");
    assert_eq!(g.derivative_text(1), "1");
    let g = f("sin(b*cos(a*x))");
    assert_eq!(g.derivative_text(0), "cos(b*cos(a*x))*cos(a*x)");
    assert_eq!(g.derivative_text(1), "-cos(b*cos(a*x))*b*sin(a*x)*x");
    let g = f("a*x^3 + b*x^2");
    assert_eq!(g.derivative_text(0), "x^3");
    assert_eq!(g.derivative_text(1), "x^2");
    let g = f("tanh(k*x+b)");
    assert_eq!(g.derivative_text(0), "(1 - tanh(k*x + b)^2)*x");
    assert_eq!(g.derivative_text(1), "1 - tanh(k*x + b)^2");
    let g = f("x^a*b");
    assert_eq!(g.derivative_text(0), "x^a*ln(x)*b");
    let g = f("a^2.5 + b/x");
    assert_eq!(g.derivative_text(0), "2.5*a^1.5");
    assert_eq!(g.derivative_text(1), "1/x");
}

#[test]
fn printed_derivatives_parse_back_to_the_same_function() {
    for &(source, params, lo, hi) in DERIVATIVE_CASES {
        let g = f(source);
        for p in 0..2 {
            let text = g.derivative_text(p);
            let names: Vec<&str> = g.params().iter().map(String::as_str).collect();
            // A derivative may not mention every parameter; pad it with 0*name terms so that it
            // parses with the same parameter list.
            let padded = format!("{text} + 0*({})", names.join("+"));
            let d = Formula::parse_with_params(&padded, &names).unwrap_or_else(|e| panic!("{e}"));
            let xs = samples(lo, hi, 9);
            let (mut out, mut jac) = (vec![0.0; 9], vec![0.0; 18]);
            g.eval_jacobian(&params, &xs, &mut out, &mut jac);
            for (i, &x) in xs.iter().enumerate() {
                assert!(close(d.eval_at(&params, x), jac[p * 9 + i], 1e-12), "{source}: {text} at {x}");
            }
        }
    }
}

/// Evaluates node `id` by walking the DAG one sample at a time: no slots, registers or fusion.
fn tree_walk(nodes: &[Node], id: Id, params: &[f64], x: f64) -> f64 {
    let at = |c: Id| tree_walk(nodes, c, params, x);
    match nodes[id as usize] {
        Node::Const(bits) => f64::from_bits(bits),
        Node::Input(_) => x,
        Node::Param(p) => params[p as usize],
        Node::Neg(a) => -at(a),
        Node::Add(a, b) => at(a) + at(b),
        Node::Sub(a, b) => at(a) - at(b),
        Node::Mul(a, b) => at(a) * at(b),
        Node::Div(a, b) => at(a) / at(b),
        Node::Pow(a, b) => at(a).powf(at(b)),
        Node::PowI(a, n) => expr::powi(at(a), n),
        Node::Call(func, a) => func.apply(at(a)),
    }
}

#[test]
fn compiled_programs_equal_a_tree_walk_bit_for_bit() {
    // Fused affine operands (`k*x - b`), shared ones (`k*x + b` read twice) and every derivative case.
    let extra = [
        "tanh(k*x - b)",
        "sin(k*x + b) + cos(k*x + b)*x",
        "exp(-(a*x - b)^2)",
        "relu(2 - a*x)*b + sigmoid(x*b)",
        "(x + a)*(x - a)/b",
        "ln(a*x^2 + b) - x/(a + b)",
        // Scaled vectors fused into two-operand steps, on either side and on both.
        "a*x^3 + b*x^2 - x*a",
        "(a*x)/(b*x^2 + 1)*(x*b)",
        "(a*x)^b + 2^(b*x)",
    ];
    let mut cases: Vec<(&str, [f64; 2], f64, f64)> = DERIVATIVE_CASES.to_vec();
    cases.extend(extra.iter().map(|&s| (s, [0.7, 1.3], -2.0, 2.0)));
    for (source, params, lo, hi) in cases {
        let g = f(source);
        let xs = samples(lo, hi, 300);
        let m = xs.len();
        let (mut out, mut jac) = (vec![0.0; m], vec![0.0; 2 * m]);
        g.eval_jacobian(&params, &xs, &mut out, &mut jac);
        for (i, &x) in xs.iter().enumerate() {
            let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
            let first = g.first();
            assert!(same(out[i], tree_walk(first.graph.nodes(), g.value, &params, x)), "{source} at {x}");
            for p in 0..2 {
                assert!(
                    same(jac[p * m + i], tree_walk(first.graph.nodes(), first.gradient[p], &params, x)),
                    "{source} d/d{p} at {x}"
                );
            }
        }
    }
}

#[test]
fn inputs_are_named_columns_and_the_rest_are_parameters() {
    let inputs = ["x1".to_string(), "x2".to_string()];
    let g = Formula::parse_with("sigmoid(a*x1 + b*x2 + c)", &inputs, None).unwrap();
    assert_eq!(g.params(), &["a", "b", "c"]);
    assert_eq!(g.inputs(), &inputs);
    let (x1, x2) = ([0.5, -1.0, 2.0], [1.5, 0.25, -3.0]);
    let params = [0.3, -0.7, 0.1];
    let mut out = [0.0; 3];
    let mut jac = [0.0; 9];
    g.eval_jacobian_columns(&params, &[&x1, &x2], &mut out, &mut jac);
    for i in 0..3 {
        let z = 0.3 * x1[i] - 0.7 * x2[i] + 0.1;
        let s = 1.0 / (1.0 + (-z).exp());
        assert!(close(out[i], s, 1e-14), "value at {i}");
        // d sigmoid(z)/da = s (1 - s) x1, /db = s (1 - s) x2, /dc = s (1 - s).
        for (p, factor) in [x1[i], x2[i], 1.0].into_iter().enumerate() {
            assert!(close(jac[p * 3 + i], s * (1.0 - s) * factor, 1e-14), "d/d{p} at {i}");
        }
    }
    assert_eq!(g.derivative_text(2), "sigmoid(a*x1 + b*x2 + c)*(1 - sigmoid(a*x1 + b*x2 + c))");
    // `x` is an ordinary name once the inputs are named otherwise.
    let h = Formula::parse_with("x*t", &["t".to_string()], None).unwrap();
    assert_eq!(h.params(), &["x"]);
    let e = Formula::parse_with("a*t", &["t".to_string()], Some(&["a", "t"])).unwrap_err().to_string();
    assert!(e.contains("`t` is listed as a parameter but is an input column"), "{e}");
    let e = Formula::parse_with("a*t", &["pi".to_string()], None).unwrap_err().to_string();
    assert!(e.contains("`pi` cannot be an input"), "{e}");
}

#[test]
fn derivatives_wait_until_they_are_needed() {
    // 400 parameters: parsing builds no derivative, so it is immediate; the gradient of a
    // sum of 400 terms is then 400 cheap passes.
    let source: String = (0..400).map(|i| format!("p{i}*x^{}", i % 5)).collect::<Vec<_>>().join(" + ");
    let g = f(&source);
    assert_eq!(g.params().len(), 400);
    assert!(g.first.get().is_none() && g.second.get().is_none());
    let params: Vec<f64> = (0..400).map(|i| i as f64 / 400.0).collect();
    let xs = [0.5, 2.0];
    let mut out = [0.0; 2];
    g.eval(&params, &xs, &mut out);
    assert!(g.first.get().is_none(), "a value needs no derivative");
    let mut jac = vec![0.0; 800];
    g.eval_jacobian(&params, &xs, &mut out, &mut jac);
    assert!(g.first.get().is_some() && g.second.get().is_none());
    // d/dp_i = x^(i mod 5).
    assert!(close(jac[7 * 2 + 1], 2.0f64.powi(2), 1e-15));
}

#[test]
fn every_instruction_set_the_cpu_has_matches_the_baseline_bit_for_bit() {
    use program::{kernels_arch, Outputs};
    // Every kernel: each fast function with and without its fused affine input, powers, the
    // binary operations with vector and scalar operands, and the rare functions.
    let sources = [
        "tanh(k*x + b)",
        "sin(b*cos(a*x))",
        "k*x^3 + b*x^2",
        "exp(a*x) - ln(abs(b*x) + 1) + sqrt(abs(a + x))",
        "sigmoid(a*x - b) * softplus(b*x) + relu(a - x) + sign(x) * step(b)",
        "x^b / (a + 2) + tan(a*x)/7 + atan(b*x) + cosh(a) + sinh(x/9) + log10(b*b + x*x + 1)",
        "1/(a*x + b) + x^-1 + (a*x)^5",
    ];
    // 600 samples: two whole chunks and a partial one; wide enough for sin's slow path too.
    let xs = samples(-40.0, 40.0, 600);
    let (baseline, chosen) = (pulp::Arch::Scalar, kernels_arch());
    // The widest set the CPU has is chosen: AVX-512 (pulp's x86-v4) over AVX2+FMA (x86-v3).
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") {
        assert!(matches!(chosen, pulp::Arch::V4(_)), "AVX-512 present but {chosen:?} chosen");
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        assert!(matches!(chosen, pulp::Arch::V3(_)), "AVX2+FMA present but {chosen:?} chosen");
    }
    // Every wide set the CPU has (the chosen one among them).
    let paths = crate::simd_paths::wide();
    for source in sources {
        let formula = f(source);
        let n = formula.params().len();
        let params: Vec<f64> = (0..n).map(|p| 0.7 + 0.45 * p as f64).collect();
        let m = xs.len();
        let run = |arch: pulp::Arch, program: &Program, rows: (usize, usize)| {
            let (mut value, mut jacobian, mut hessian) =
                (vec![0.0; m], vec![0.0; rows.0 * m], vec![0.0; rows.1 * m]);
            let mut outputs = Outputs { value: &mut value, jacobian: &mut jacobian, hessian: &mut hessian };
            program.run_on(arch, &params, &[&xs], &mut outputs);
            // Every value bit for bit, except that a NaN is a NaN: which NaN an operation returns
            // (sign, payload) depends on which operand carried one in, and vector code may
            // order the operands of a commutative operation the other way (seen on an Intel
            // Xeon: the derivatives of `x^b` at negative x, AVX2 against the baseline).
            let bits = |v: f64| if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() };
            [value, jacobian, hessian].map(|v| v.into_iter().map(bits).collect::<Vec<u64>>())
        };
        for (program, rows) in [
            (&formula.value_program, (0, 0)),
            (&formula.first().program, (n, 0)),
            (formula.second(), (n, n * n)),
        ] {
            let expected = run(baseline, program, rows);
            for arch in &paths {
                assert_eq!(run(*arch, program, rows), expected, "`{source}` on {arch:?}");
            }
        }
    }
}
