//! Transforms of the inputs x before fitting, the subject of the seed's figure 2: standardizing the
//! inputs makes the loss bowl round, which is what lets gradient descent take large steps.

use std::fmt;
use std::str::FromStr;

use crate::data::Dataset;
use crate::error::{Error, Result};

/// A transform of the inputs x (the targets y are left alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transform {
    /// x unchanged.
    #[default]
    None,
    /// (x - mean) / std with the population standard deviation: for linear + mse the Hessian
    /// becomes 2 * I and the iso-loss lines circles.
    Zscore,
    /// (x - min) / (max - min), onto [0, 1].
    MinMax,
    /// (x - mean) / var: the teaching note's "standardization", which divides by the variance
    /// instead of the standard deviation. Kept only to reproduce its figure; it is not a z-score.
    MeanVar,
}

impl Transform {
    /// Every transform, in the order the help text lists them.
    pub const ALL: [Transform; 4] =
        [Transform::None, Transform::Zscore, Transform::MinMax, Transform::MeanVar];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Transform::None => "none",
            Transform::Zscore => "zscore",
            Transform::MinMax => "minmax",
            Transform::MeanVar => "mean-var",
        }
    }

    /// How the transform is described in figure titles.
    pub fn description(self) -> &'static str {
        match self {
            Transform::None => "raw x",
            Transform::Zscore => "z-scored x: (x - mean) / std",
            Transform::MinMax => "min-max scaled x: (x - min) / (max - min)",
            Transform::MeanVar => "the note's (x - mean) / var (not a z-score)",
        }
    }

    /// A short label for panel titles: `raw x`, `z-score`, `min-max`, `the note's (x - mean) / var`.
    pub fn short_description(self) -> &'static str {
        match self {
            Transform::None => "raw x",
            Transform::Zscore => "z-scored x",
            Transform::MinMax => "min-max scaled x",
            Transform::MeanVar => "note's (x - mean) / var",
        }
    }

    /// The transformed inputs. A transform that would divide by zero (all x equal) is an error
    /// that says so, never a column of NaN.
    pub fn apply_to(self, x: &[f64]) -> Result<Vec<f64>> {
        let m = x.len() as f64;
        let mean = x.iter().sum::<f64>() / m;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
        let constant = || Error::Transform {
            transform: self.name().into(),
            reason: format!(
                "all {} x values are equal ({}), so there is no spread to divide by; use --transform none",
                x.len(),
                x[0]
            ),
        };
        match self {
            Transform::None => Ok(x.to_vec()),
            Transform::Zscore | Transform::MeanVar => {
                if var <= 0.0 {
                    return Err(constant());
                }
                let scale = if self == Transform::Zscore { var.sqrt() } else { var };
                Ok(x.iter().map(|v| (v - mean) / scale).collect())
            }
            Transform::MinMax => {
                let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if hi <= lo {
                    return Err(constant());
                }
                Ok(x.iter().map(|v| (v - lo) / (hi - lo)).collect())
            }
        }
    }

    /// The data set with transformed inputs.
    pub fn apply(self, data: &Dataset) -> Result<Dataset> {
        if self == Transform::None {
            return Ok(data.clone());
        }
        let columns = data.inputs().iter().map(|column| self.apply_to(column)).collect::<Result<Vec<_>>>()?;
        data.with_columns(columns, format!("{} ({})", data.name(), self.name()))
    }
}

impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Transform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Transform> {
        Transform::ALL.into_iter().find(|t| t.name() == s).ok_or_else(|| {
            Error::Invalid(format!("unknown transform `{s}`; use one of none, zscore, minmax, mean-var"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_of_the_seed_inputs_by_hand() {
        let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        // mean 2.5, population variance 17.5 / 6 = 35/12, std sqrt(35/12)
        let std = (35.0f64 / 12.0).sqrt();
        let z = Transform::Zscore.apply_to(&x).unwrap();
        assert!((z[0] + 2.5 / std).abs() < 1e-15 && (z[5] - 2.5 / std).abs() < 1e-15);
        let mv = Transform::MeanVar.apply_to(&x).unwrap();
        assert!((mv[0] + 2.5 * 12.0 / 35.0).abs() < 1e-15);
        assert_eq!(Transform::MinMax.apply_to(&x).unwrap(), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(Transform::None.apply_to(&x).unwrap(), x.to_vec());
    }

    #[test]
    fn zscore_has_mean_zero_and_unit_variance() {
        let z = Transform::Zscore.apply_to(&[3.0, 7.0, 8.0, 10.0, -2.0]).unwrap();
        let mean = z.iter().sum::<f64>() / 5.0;
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 5.0;
        assert!(mean.abs() < 1e-15 && (var - 1.0).abs() < 1e-14);
    }

    #[test]
    fn a_constant_column_is_a_clear_error() {
        for t in [Transform::Zscore, Transform::MinMax, Transform::MeanVar] {
            let e = t.apply_to(&[2.0, 2.0, 2.0]).unwrap_err().to_string();
            assert!(e.contains(t.name()) && e.contains("all 3 x values are equal"), "{e}");
        }
        assert!(Transform::None.apply_to(&[2.0, 2.0]).is_ok());
    }

    #[test]
    fn names_round_trip() {
        for t in Transform::ALL {
            assert_eq!(t.name().parse::<Transform>().unwrap(), t);
        }
        assert!("standard".parse::<Transform>().unwrap_err().to_string().contains("zscore"));
    }
}
