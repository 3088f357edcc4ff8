//! Loss landscapes: the objective evaluated on a grid over a plane.
//!
//! Orientation (DESIGN.md): `values[j * nu + i]` is the loss at (u_i, v_j), u horizontal, v
//! vertical, both inclusive linspaces; this is numpy's `Z` of shape (n_v, n_u) for matplotlib's
//! `contour(U, V, Z)`, so exports open without transposes.

use crate::data::linspace;
use crate::error::{Error, Result};
use crate::formula::GridPlan;
use crate::objective::Objective;
use crate::plane::Plane;

/// One axis of a grid: `n` points from `min` to `max` inclusive.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    name: String,
    min: f64,
    max: f64,
    n: usize,
}

impl Axis {
    /// Checks that the range is finite with min < max and that there are at least 2 points.
    pub fn new(name: impl Into<String>, min: f64, max: f64, n: usize) -> Result<Axis> {
        let name = name.into();
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(Error::BadRange { axis: name, min, max });
        }
        if n < 2 {
            return Err(Error::BadResolution { axis: name, n });
        }
        Ok(Axis { name, min, max, n })
    }

    /// The axis name (the parameter or direction it measures).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lower end.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// The upper end.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// The number of points.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The spacing between neighbouring points.
    pub fn step(&self) -> f64 {
        (self.max - self.min) / (self.n - 1) as f64
    }

    /// Point `i` (exactly `max` for the last one).
    pub fn value(&self, i: usize) -> f64 {
        if i + 1 == self.n {
            self.max
        } else {
            self.min + (self.max - self.min) * i as f64 / (self.n - 1) as f64
        }
    }

    /// All points.
    pub fn values(&self) -> Vec<f64> {
        linspace(self.min, self.max, self.n)
    }

    /// The fractional index of coordinate `x` (0 at min, n - 1 at max).
    pub fn position(&self, x: f64) -> f64 {
        (x - self.min) / self.step()
    }

    /// Whether `x` lies within [min, max].
    pub fn contains(&self, x: f64) -> bool {
        x >= self.min && x <= self.max
    }
}

/// The default memory budget for one grid's values: 4 GiB.
pub const DEFAULT_GRID_BUDGET_BYTES: u64 = 4 << 30;

/// What to evaluate: two axes and a memory budget that is checked before anything is allocated.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSpec {
    u: Axis,
    v: Axis,
}

impl GridSpec {
    /// A grid over `u` (horizontal) and `v` (vertical), refused up front when its values would
    /// take more than `budget_bytes`.
    pub fn new(u: Axis, v: Axis, budget_bytes: u64) -> Result<GridSpec> {
        let need = (u.n as u128) * (v.n as u128) * 8;
        if need > budget_bytes as u128 {
            return Err(Error::GridTooLarge {
                nu: u.n,
                nv: v.n,
                need_mib: need as f64 / (1u64 << 20) as f64,
                budget_mib: budget_bytes as f64 / (1u64 << 20) as f64,
            });
        }
        Ok(GridSpec { u, v })
    }

    /// The horizontal axis.
    pub fn u(&self) -> &Axis {
        &self.u
    }

    /// The vertical axis.
    pub fn v(&self) -> &Axis {
        &self.v
    }

    /// The number of grid points.
    pub fn len(&self) -> usize {
        self.u.n * self.v.n
    }

    /// Always false: a grid has at least 2 x 2 points.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The smallest finite value of a landscape and where it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridMinimum {
    /// Column index (along u).
    pub i: usize,
    /// Row index (along v).
    pub j: usize,
    /// The u coordinate.
    pub u: f64,
    /// The v coordinate.
    pub v: f64,
    /// The loss there.
    pub loss: f64,
}

/// What every figure and report asks of a grid's values (where the minimum is, the finite range,
/// how many points are not finite), found in one scan when the landscape is made. The values never
/// change afterwards, so asking again costs nothing; at 3000 x 3000 points each separate scan used
/// to cost about as much as contouring one level.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ValueStats {
    /// Row-major index and value of the smallest finite value (the first on ties).
    minimum: Option<(usize, f64)>,
    /// The smallest and largest finite values.
    range: Option<(f64, f64)>,
    non_finite: usize,
}

impl ValueStats {
    fn of(values: &[f64]) -> ValueStats {
        let mut stats = ValueStats { minimum: None, range: None, non_finite: 0 };
        for (index, &v) in values.iter().enumerate() {
            if !v.is_finite() {
                stats.non_finite += 1;
                continue;
            }
            match stats.range {
                None => {
                    stats.range = Some((v, v));
                    stats.minimum = Some((index, v));
                }
                Some((lo, hi)) => {
                    stats.range = Some((lo.min(v), hi.max(v)));
                    if stats.minimum.is_some_and(|(_, m)| v.total_cmp(&m).is_lt()) {
                        stats.minimum = Some((index, v));
                    }
                }
            }
        }
        stats
    }
}

/// Loss values on a grid over a plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Landscape {
    grid: GridSpec,
    plane: Plane,
    values: Vec<f64>,
    stats: ValueStats,
}

impl Landscape {
    /// Wraps values computed elsewhere (tests, imports); `values.len()` must be nu * nv.
    pub fn from_values(grid: GridSpec, plane: Plane, values: Vec<f64>) -> Result<Landscape> {
        if values.len() != grid.len() {
            return Err(Error::Invalid(format!(
                "{} values do not fill a {}x{} grid",
                values.len(),
                grid.u.n,
                grid.v.n
            )));
        }
        let stats = ValueStats::of(&values);
        Ok(Landscape { grid, plane, values, stats })
    }

    /// The grid.
    pub fn grid(&self) -> &GridSpec {
        &self.grid
    }

    /// The horizontal axis.
    pub fn u(&self) -> &Axis {
        &self.grid.u
    }

    /// The vertical axis.
    pub fn v(&self) -> &Axis {
        &self.grid.v
    }

    /// The plane the grid lies on.
    pub fn plane(&self) -> &Plane {
        &self.plane
    }

    /// Row-major values, `values[j * nu + i]`; NaN where the loss is not finite.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The values, giving up the landscape.
    pub fn into_values(self) -> Vec<f64> {
        self.values
    }

    /// The value at column `i`, row `j`.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.values[j * self.grid.u.n + i]
    }

    /// How many grid points have no finite loss (overflow, log of a negative number, ...).
    pub fn non_finite_count(&self) -> usize {
        self.stats.non_finite
    }

    /// The smallest finite value and its grid point; `None` when no value is finite. Ties go to
    /// the first in row-major order, so the answer does not depend on thread count.
    pub fn minimum(&self) -> Option<GridMinimum> {
        let (index, loss) = self.stats.minimum?;
        let nu = self.grid.u.n;
        let (i, j) = (index % nu, index / nu);
        Some(GridMinimum { i, j, u: self.grid.u.value(i), v: self.grid.v.value(j), loss })
    }

    /// The smallest and largest finite values, `None` when no value is finite.
    pub fn finite_range(&self) -> Option<(f64, f64)> {
        self.stats.range
    }

    /// Bilinear interpolation at (u, v); NaN outside the grid or next to a non-finite value.
    pub fn interpolate(&self, u: f64, v: f64) -> f64 {
        let (pu, pv) = (self.grid.u.position(u), self.grid.v.position(v));
        let (nu, nv) = (self.grid.u.n, self.grid.v.n);
        if !(pu >= 0.0 && pv >= 0.0 && pu <= (nu - 1) as f64 && pv <= (nv - 1) as f64) {
            return f64::NAN;
        }
        let i = (pu.floor() as usize).min(nu - 2);
        let j = (pv.floor() as usize).min(nv - 2);
        let (fu, fv) = (pu - i as f64, pv - j as f64);
        let (a, b) = (self.at(i, j), self.at(i + 1, j));
        let (c, d) = (self.at(i, j + 1), self.at(i + 1, j + 1));
        (a * (1.0 - fu) + b * fu) * (1.0 - fv) + (c * (1.0 - fu) + d * fu) * fv
    }
}

/// Evaluates `objective` at every point of `grid` on `plane`, in parallel over rows when the
/// `parallel` feature is on. Each row is computed the same way whatever the thread count, so the
/// result is bit-identical with one thread or many. Non-finite losses are stored as NaN.
///
/// Linear model + mse uses the closed form ([`crate::Quadratic`]), O(1) per point whatever the data
/// size; everything else evaluates the model column-wise over the data at each point.
pub fn evaluate(objective: &Objective, plane: &Plane, grid: &GridSpec) -> Result<Landscape> {
    let mut values = Vec::new();
    evaluate_into(objective, plane, grid, &mut values)?;
    Landscape::from_values(grid.clone(), plane.clone(), values)
}

/// [`evaluate`] into a caller's buffer, resized to the grid: a caller that redraws (an animation,
/// the live server, a benchmark) reuses its memory instead of faulting in a fresh grid each time,
/// which at 4000 x 4000 points costs more than computing a closed-form landscape.
pub fn evaluate_into(
    objective: &Objective,
    plane: &Plane,
    grid: &GridSpec,
    values: &mut Vec<f64>,
) -> Result<()> {
    evaluate_rows(objective, plane, grid, 0..grid.v.n, values)
}

/// The rows `rows` (indices along v) of [`evaluate`]'s grid into `values`, resized to them, row by
/// row: what a landscape store computes one chunk at a time, so memory is bounded by the chunk
/// rather than the grid. Each value is bit-identical to the same point of a whole-grid
/// [`evaluate`], however the rows are cut.
pub fn evaluate_rows(
    objective: &Objective,
    plane: &Plane,
    grid: &GridSpec,
    rows: std::ops::Range<usize>,
    values: &mut Vec<f64>,
) -> Result<()> {
    if rows.start > rows.end || rows.end > grid.v.n {
        return Err(Error::Invalid(format!(
            "rows {}..{} lie outside a grid of {} rows",
            rows.start, rows.end, grid.v.n
        )));
    }
    if plane.dim() != objective.n_params() {
        return Err(Error::Invalid(format!(
            "the plane lives in {} dimensions but the model has {} parameters",
            plane.dim(),
            objective.n_params()
        )));
    }
    let nu = grid.u.n;
    values.resize(nu * rows.len(), 0.0);
    let us = grid.u.values();
    let axes = plane.axis_indices();
    let vs = &grid.v.values()[rows];
    if let (None, Some(axes)) = (objective.quadratic(), axes) {
        if let Some(planned) = Planned::new(objective, plane, axes) {
            planned.fill(objective, plane, &us, vs, values);
            return Ok(());
        }
    }
    let fill_row = |j: usize, row: &mut [f64]| {
        let v = vs[j];
        let mut theta = vec![0.0; plane.dim()];
        match (objective.quadratic(), axes) {
            // The hot path of the seed figures: O(1) per point with no affine map, in a loop
            // simple enough for the compiler to vectorise.
            (Some(q), Some(axes)) => {
                let (slope, _) = q.indices();
                if axes.0 == slope {
                    row.iter_mut().zip(&us).for_each(|(out, &u)| *out = q.loss_at(u, v));
                } else {
                    row.iter_mut().zip(&us).for_each(|(out, &u)| *out = q.loss_at(v, u));
                }
            }
            (Some(q), None) => {
                for (out, &u) in row.iter_mut().zip(&us) {
                    plane.point_into(u, v, &mut theta);
                    *out = q.loss(&theta);
                }
            }
            (None, _) => {
                let mut buffer = vec![0.0; objective.data().len().min(1024)];
                for (out, &u) in row.iter_mut().zip(&us) {
                    plane.point_into(u, v, &mut theta);
                    *out = objective.loss_with_buffer(&theta, &mut buffer);
                }
            }
        }
        for value in row.iter_mut() {
            if !value.is_finite() {
                *value = f64::NAN;
            }
        }
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        values.par_chunks_mut(nu).enumerate().for_each(|(j, row)| fill_row(j, row));
    }
    #[cfg(not(feature = "parallel"))]
    values.chunks_mut(nu).enumerate().for_each(|(j, row)| fill_row(j, row));
    Ok(())
}

/// A formula's grid through a [`GridPlan`]: the parts that depend on the data alone computed
/// once, and those that depend on the data and one axis once per line of constant value on it.
/// The lines run along the axis whose plan stores the most per line (rows unless columns save
/// more); the values are bit-identical to evaluating each point.
struct Planned {
    plan: GridPlan,
    data_columns: Vec<Vec<f64>>,
    /// Lines of constant v (grid rows) rather than of constant u (columns).
    rows: bool,
}

impl Planned {
    /// The plan for an axis-aligned plane of a formula's parameters `(u, v)`, when it saves
    /// anything.
    fn new(objective: &Objective, plane: &Plane, (u, v): (usize, usize)) -> Option<Planned> {
        let formula = objective.model().as_formula()?;
        let by_rows = formula.grid_plan(v, u);
        let by_columns = formula.grid_plan(u, v);
        let stored = |p: &Option<GridPlan>| p.as_ref().map_or(0, GridPlan::line_columns);
        let (plan, rows) =
            if stored(&by_columns) > stored(&by_rows) { (by_columns?, false) } else { (by_rows?, true) };
        if !plan.hoists_anything() {
            return None;
        }
        let inputs: Vec<&[f64]> = objective.data().inputs().iter().map(Vec::as_slice).collect();
        // The data stage reads only the held parameters, the same at every point of the plane.
        let data_columns = plan.run_data(plane.origin(), &inputs);
        Some(Planned { plan, data_columns, rows })
    }

    /// Every grid value, line by line in parallel, non-finite losses as NaN.
    fn fill(&self, objective: &Objective, plane: &Plane, us: &[f64], vs: &[f64], values: &mut [f64]) {
        let nu = us.len();
        let line = |points: Vec<Vec<f64>>| {
            let mut losses = objective.planned_line_losses(&self.plan, &self.data_columns, &points);
            for loss in losses.iter_mut().filter(|l| !l.is_finite()) {
                *loss = f64::NAN;
            }
            losses
        };
        if self.rows {
            let fill_row = |j: usize, row: &mut [f64]| {
                row.copy_from_slice(&line(us.iter().map(|&u| plane.point(u, vs[j])).collect()));
            };
            #[cfg(feature = "parallel")]
            {
                use rayon::prelude::*;
                values.par_chunks_mut(nu).enumerate().for_each(|(j, row)| fill_row(j, row));
            }
            #[cfg(not(feature = "parallel"))]
            values.chunks_mut(nu).enumerate().for_each(|(j, row)| fill_row(j, row));
        } else {
            let column = |i: usize| line(vs.iter().map(|&v| plane.point(us[i], v)).collect());
            #[cfg(feature = "parallel")]
            let columns: Vec<Vec<f64>> = {
                use rayon::prelude::*;
                (0..nu).into_par_iter().map(column).collect()
            };
            #[cfg(not(feature = "parallel"))]
            let columns: Vec<Vec<f64>> = (0..nu).map(column).collect();
            for (i, column) in columns.iter().enumerate() {
                for (j, &value) in column.iter().enumerate() {
                    values[j * nu + i] = value;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::Dataset;
    use crate::loss::Loss;
    use crate::model::{linear, Activation};

    fn seed_grid(n: usize) -> (Objective, Plane, GridSpec) {
        let obj = Objective::new(Dataset::seed(), Arc::new(linear(Activation::Identity)), Loss::Mse);
        let plane = Plane::parameter_axes(obj.param_names()).unwrap();
        let grid = GridSpec::new(
            Axis::new("k", 0.0, 2.0, n).unwrap(),
            Axis::new("b", -2.0, 4.0, n).unwrap(),
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        (obj, plane, grid)
    }

    /// A formula objective over `n` samples of `inputs` input columns (deterministic, with values
    /// where some formulas overflow), on the axes `(u, v)` of its parameters.
    fn formula_grid(
        source: &str,
        inputs: &[&str],
        n: usize,
        loss: Loss,
        axes: (&str, &str),
    ) -> (Objective, Plane, GridSpec) {
        let names: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
        let formula = crate::Formula::parse_with(source, &names, None).unwrap();
        let columns: Vec<Vec<f64>> = (0..inputs.len())
            .map(|k| (0..n).map(|i| ((i * (k + 3)) as f64 * 0.37).sin() * 2.5 + k as f64 * 0.1).collect())
            .collect();
        let y = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
        let data = Dataset::with_inputs("test", names, columns, y).unwrap();
        let params = formula.params().to_vec();
        let (p, q) = (
            params.iter().position(|s| s == axes.0).unwrap(),
            params.iter().position(|s| s == axes.1).unwrap(),
        );
        let held: Vec<f64> = (0..params.len()).map(|i| 0.4 + 0.3 * i as f64).collect();
        let plane = Plane::axes(held, p, q, &params).unwrap();
        let obj = Objective::new(data, Arc::new(formula), loss);
        let grid = GridSpec::new(
            Axis::new(axes.0, -1.5, 2.0, 13).unwrap(),
            Axis::new(axes.1, -3.0, 120.0, 11).unwrap(),
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        (obj, plane, grid)
    }

    #[test]
    fn planned_grids_equal_point_by_point_bit_for_bit() {
        type Case<'a> = (&'a str, &'a [&'a str], (&'a str, &'a str), Loss);
        let cases: &[Case<'_>] = &[
            // A per-column part (cos(a*x)) and a per-row one, in both axis orders.
            ("sin(b*cos(a*x))", &["x"], ("a", "b"), Loss::Mse),
            ("sin(b*cos(a*x))", &["x"], ("b", "a"), Loss::Mse),
            // Data-only parts (x^3, x^2).
            ("a*x^3 + b*x^2", &["x"], ("a", "b"), Loss::Mae),
            // Held parameters in the data stage, an exp that overflows at some points (NaN data).
            ("c*sin(d*x) + a*exp(b*x^2) + ln(2 + cos(a*x))", &["x"], ("a", "b"), Loss::Mse),
            // Several inputs, a part of both inputs and one axis.
            ("tanh(k*x + b) * exp(-z^2) + cos(k*z)", &["x", "z"], ("k", "b"), Loss::Mse),
            ("tanh(k*x + b) * exp(-z^2) + cos(k*z)", &["x", "z"], ("b", "k"), Loss::Mse),
        ];
        // 2500 samples: two full chunks of 1024 and a short one.
        for &(source, inputs, axes, loss) in cases {
            let (obj, plane, grid) = formula_grid(source, inputs, 2500, loss, axes);
            let planned = evaluate(&obj, &plane, &grid).unwrap();
            for (j, v) in grid.v.values().into_iter().enumerate() {
                for (i, u) in grid.u.values().into_iter().enumerate() {
                    let direct = obj.loss(&plane.point(u, v));
                    let direct = if direct.is_finite() { direct } else { f64::NAN };
                    let got = planned.at(i, j);
                    assert!(
                        got.to_bits() == direct.to_bits() || (got.is_nan() && direct.is_nan()),
                        "{source} on {axes:?} at ({u}, {v}): planned {got}, point by point {direct}"
                    );
                }
            }
        }
        // A store's chunk of rows is the same bits as the whole grid's, by rows and by columns.
        for case in [cases[0], cases[1]] {
            let (obj, plane, grid) = formula_grid(case.0, case.1, 2500, case.3, case.2);
            let whole = evaluate(&obj, &plane, &grid).unwrap();
            let mut rows = Vec::new();
            evaluate_rows(&obj, &plane, &grid, 3..7, &mut rows).unwrap();
            let nu = grid.u.n;
            assert!(rows
                .iter()
                .zip(&whole.values()[3 * nu..7 * nu])
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
        // The case with overflow does reach non-finite losses somewhere.
        let (obj, plane, grid) = formula_grid(cases[3].0, cases[3].1, 2500, Loss::Mse, cases[3].2);
        assert!(evaluate(&obj, &plane, &grid).unwrap().non_finite_count() > 0);
    }

    #[test]
    fn orientation_is_row_major_v_rows() {
        let (obj, plane, grid) = seed_grid(5);
        let l = evaluate(&obj, &plane, &grid).unwrap();
        // Column i = 4 is k = 2, row j = 1 is b = -0.5.
        let direct = obj.loss(&[2.0, -0.5]);
        assert!((l.values()[5 + 4] - direct).abs() < 1e-12);
        assert!((l.at(4, 1) - direct).abs() < 1e-12);
    }

    #[test]
    fn rows_of_a_formula_grid_are_the_direct_losses_at_their_points() {
        let obj = Objective::new(
            Dataset::seed(),
            Arc::new(crate::formula::Formula::parse("tanh(k*x+b)").unwrap()),
            Loss::Mse,
        );
        let plane = Plane::parameter_axes(obj.param_names()).unwrap();
        let grid = GridSpec::new(
            Axis::new("k", -1.0, 2.0, 7).unwrap(),
            Axis::new("b", -0.5, 1.5, 9).unwrap(),
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let mut rows = Vec::new();
        evaluate_rows(&obj, &plane, &grid, 3..6, &mut rows).unwrap();
        assert_eq!(rows.len(), 3 * 7);
        for (r, j) in (3..6).enumerate() {
            for i in 0..7 {
                let direct = obj.loss(&[grid.u().value(i), grid.v().value(j)]);
                assert!((rows[r * 7 + i] - direct).abs() <= 1e-12 * direct.abs().max(1.0), "({i}, {j})");
            }
        }
        // The same bits as the whole grid's rows, however the grid is cut.
        let whole = evaluate(&obj, &plane, &grid).unwrap();
        assert!(rows.iter().zip(&whole.values()[3 * 7..6 * 7]).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(evaluate_rows(&obj, &plane, &grid, 8..10, &mut rows).is_err());
    }

    #[test]
    fn seed_grid_minimum_is_near_the_optimum() {
        let (obj, plane, grid) = seed_grid(200);
        let l = evaluate(&obj, &plane, &grid).unwrap();
        let m = l.minimum().unwrap();
        // Grid spacing is 2/199 in k and 6/199 in b.
        assert!((m.u - 0.8257142857).abs() <= 2.0 / 199.0, "{m:?}");
        assert!((m.v - 1.4857142857).abs() <= 6.0 / 199.0, "{m:?}");
        assert!(m.loss >= 0.1339047619 && m.loss < 0.1339047619 + 0.01);
    }

    #[test]
    fn closed_form_grid_equals_direct_grid() {
        let (obj, plane, grid) = seed_grid(37);
        let closed = evaluate(&obj, &plane, &grid).unwrap();
        let direct_obj = obj.clone().without_closed_form();
        assert!(direct_obj.quadratic().is_none());
        let direct = evaluate(&direct_obj, &plane, &grid).unwrap();
        for (a, b) in closed.values().iter().zip(direct.values()) {
            assert!(((a - b) / b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn closed_form_with_swapped_axes_and_on_a_skew_plane() {
        let (obj, _, grid) = seed_grid(9);
        let direct_obj = obj.clone().without_closed_form();
        let swapped =
            Plane::new(vec![0.0, 0.0], vec![0.0, 1.0], vec![1.0, 0.0], ["b".into(), "k".into()]).unwrap();
        assert_eq!(swapped.axis_indices(), Some((1, 0)));
        let skew =
            Plane::new(vec![0.8, 1.5], vec![0.6, 0.8], vec![-0.8, 0.6], ["d1".into(), "d2".into()]).unwrap();
        assert_eq!(skew.axis_indices(), None);
        for plane in [swapped, skew] {
            let closed = evaluate(&obj, &plane, &grid).unwrap();
            let direct = evaluate(&direct_obj, &plane, &grid).unwrap();
            for (a, b) in closed.values().iter().zip(direct.values()) {
                assert!(((a - b) / b).abs() < 1e-12, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn non_finite_losses_become_nan_and_are_counted() {
        let f = crate::formula::Formula::parse("ln(a*x) + b").unwrap();
        let obj = Objective::new(Dataset::seed(), Arc::new(f), Loss::Mse);
        let plane = Plane::parameter_axes(obj.param_names()).unwrap();
        let grid = GridSpec::new(
            Axis::new("a", -1.0, 1.0, 5).unwrap(),
            Axis::new("b", 0.0, 1.0, 3).unwrap(),
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let l = evaluate(&obj, &plane, &grid).unwrap();
        // a <= 0 gives ln of a non-positive number at x > 0 (or at x = 0 for every a).
        assert_eq!(l.non_finite_count(), 15);
        assert!(l.values().iter().all(|v| v.is_nan()));
        assert!(l.minimum().is_none());
    }

    #[test]
    fn minimum_range_and_gaps_come_from_one_scan() {
        let grid = GridSpec::new(
            Axis::new("u", 0.0, 3.0, 4).unwrap(),
            Axis::new("v", 0.0, 2.0, 3).unwrap(),
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let plane = Plane::parameter_axes(&["u".into(), "v".into()]).unwrap();
        let nan = f64::NAN;
        #[rustfmt::skip]
        let values = vec![
            nan, 5.0, -1.5, 7.0,
            f64::INFINITY, 2.0, 9.5, -1.5,
            0.0, f64::NEG_INFINITY, -1.5, 3.0,
        ];
        let l = Landscape::from_values(grid.clone(), plane.clone(), values).unwrap();
        assert_eq!(l.non_finite_count(), 3);
        assert_eq!(l.finite_range(), Some((-1.5, 9.5)));
        // -1.5 appears three times: the first in row-major order wins, at column 2 of row 0.
        let m = l.minimum().unwrap();
        assert_eq!((m.i, m.j, m.u, m.v, m.loss), (2, 0, 2.0, 0.0, -1.5));
        let empty = Landscape::from_values(grid, plane, vec![nan; 12]).unwrap();
        assert_eq!((empty.non_finite_count(), empty.finite_range(), empty.minimum()), (12, None, None));
    }

    #[test]
    fn bad_axes_and_budget_are_refused() {
        assert!(matches!(Axis::new("k", 2.0, 0.0, 10), Err(Error::BadRange { .. })));
        assert!(matches!(Axis::new("k", 0.0, f64::INFINITY, 10), Err(Error::BadRange { .. })));
        assert!(matches!(Axis::new("k", 0.0, 1.0, 1), Err(Error::BadResolution { .. })));
        let a = Axis::new("k", 0.0, 1.0, 100_000).unwrap();
        let e = GridSpec::new(a.clone(), a, DEFAULT_GRID_BUDGET_BYTES).unwrap_err().to_string();
        assert!(e.contains("76294 MiB"), "{e}");
    }
}
