//! Loss functions: the per-sample penalty of a residual and its derivatives.

use std::fmt;

use crate::error::{Error, Result};

/// How a residual r = prediction - target is penalised. The loss is the mean penalty over samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Mean squared error, r^2 (the seed's loss).
    Mse,
    /// Mean absolute error, |r|. Its derivative at r = 0 is taken as 0 and its curvature as 0.
    Mae,
    /// Huber loss as in torch.nn.HuberLoss: r^2 / 2 for |r| <= delta, delta * (|r| - delta / 2) beyond.
    Huber {
        /// Where the penalty turns from quadratic to linear (> 0).
        delta: f64,
    },
}

impl Loss {
    /// A Huber loss, checking that `delta` is finite and positive.
    pub fn huber(delta: f64) -> Result<Loss> {
        if delta.is_finite() && delta > 0.0 {
            Ok(Loss::Huber { delta })
        } else {
            Err(Error::Invalid(format!(
                "huber delta {delta} must be a finite number > 0, e.g. huber:delta=1"
            )))
        }
    }

    /// Parses `mse`, `mae`, `huber` (delta 1, torch's default) or `huber:delta=0.5`.
    pub fn parse(text: &str) -> Result<Loss> {
        let unknown =
            || Error::Invalid(format!("unknown loss `{text}`; use mse, mae, huber or huber:delta=<number>"));
        match text {
            "mse" => Ok(Loss::Mse),
            "mae" => Ok(Loss::Mae),
            "huber" => Loss::huber(1.0),
            _ => {
                let value = text.strip_prefix("huber:delta=").ok_or_else(unknown)?;
                let delta = value.parse::<f64>().map_err(|_| {
                    Error::Invalid(format!("huber delta `{value}` is not a number, e.g. huber:delta=0.5"))
                })?;
                Loss::huber(delta)
            }
        }
    }

    /// The penalty of residual `r`.
    #[inline]
    pub fn penalty(self, r: f64) -> f64 {
        match self {
            Loss::Mse => r * r,
            Loss::Mae => r.abs(),
            Loss::Huber { delta } => {
                let a = r.abs();
                if a <= delta {
                    0.5 * r * r
                } else {
                    delta * (a - 0.5 * delta)
                }
            }
        }
    }

    /// d penalty / dr.
    #[inline]
    pub fn slope(self, r: f64) -> f64 {
        match self {
            Loss::Mse => 2.0 * r,
            Loss::Mae => sign(r),
            Loss::Huber { delta } => r.clamp(-delta, delta),
        }
    }

    /// d2 penalty / dr2 (the generalised value 0 at the kinks of mae and huber).
    #[inline]
    pub fn curvature(self, r: f64) -> f64 {
        match self {
            Loss::Mse => 2.0,
            Loss::Mae => 0.0,
            Loss::Huber { delta } => {
                if r.abs() <= delta {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

fn sign(r: f64) -> f64 {
    if r > 0.0 {
        1.0
    } else if r < 0.0 {
        -1.0
    } else {
        0.0
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::Mse => f.write_str("mse"),
            Loss::Mae => f.write_str("mae"),
            Loss::Huber { delta } => write!(f, "huber(delta={delta})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalties_at_hand_points() {
        assert_eq!(Loss::Mse.penalty(-3.0), 9.0);
        assert_eq!(Loss::Mae.penalty(-3.0), 3.0);
        let h = Loss::huber(1.0).unwrap();
        assert_eq!(h.penalty(0.5), 0.125);
        assert_eq!(h.penalty(-3.0), 2.5);
        assert_eq!(h.slope(-3.0), -1.0);
        assert_eq!(h.slope(0.25), 0.25);
    }

    #[test]
    fn slopes_match_finite_differences() {
        for loss in [Loss::Mse, Loss::Mae, Loss::huber(0.7).unwrap()] {
            for r in [-2.3, -0.4, 0.3, 1.9] {
                let h = 1e-6;
                let fd = (loss.penalty(r + h) - loss.penalty(r - h)) / (2.0 * h);
                assert!((fd - loss.slope(r)).abs() < 1e-6, "{loss} at {r}");
                let fd2 = (loss.slope(r + h) - loss.slope(r - h)) / (2.0 * h);
                assert!((fd2 - loss.curvature(r)).abs() < 1e-6, "{loss} at {r}");
            }
        }
    }

    #[test]
    fn parse_names_and_delta() {
        assert_eq!(Loss::parse("mse").unwrap(), Loss::Mse);
        assert_eq!(Loss::parse("huber:delta=0.5").unwrap(), Loss::Huber { delta: 0.5 });
        assert!(Loss::parse("huber:delta=-1").unwrap_err().to_string().contains("> 0"));
        assert!(Loss::parse("l2").unwrap_err().to_string().contains("unknown loss `l2`"));
    }
}
