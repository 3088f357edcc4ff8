//! Loss functions: the per-sample penalty of a prediction against its target, and its first and
//! second derivatives with respect to the prediction (which the objective chains with the model's
//! exact derivatives).

use std::fmt;

use crate::error::{Error, Result};

/// How a prediction is penalised against its target. The loss is the mean penalty over samples.
///
/// Regression losses look at the residual r = prediction - target; the cross-entropies read the
/// target as a probability of class 1 (0/1 labels, or soft labels in [0, 1]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Mean squared error, r^2 (the teaching example's loss).
    Mse,
    /// Mean absolute error, |r|. Its derivative at r = 0 is taken as 0 and its curvature as 0.
    Mae,
    /// Huber loss as in torch.nn.HuberLoss: r^2 / 2 for |r| <= delta, delta * (|r| - delta / 2) beyond.
    Huber {
        /// Where the penalty turns from quadratic to linear (> 0).
        delta: f64,
    },
    /// Binary cross-entropy of a predicted probability p, as torch.nn.BCELoss:
    /// -(y ln p + (1 - y) ln(1 - p)), each log clamped at -100 as torch does so that p = 0 or 1
    /// gives a large finite penalty. A prediction outside [0, 1] has no penalty (NaN): it is data,
    /// drawn as a gap, and the fix is to use `bce-logits` or a sigmoid.
    Bce,
    /// Binary cross-entropy of a logit z (the probability is sigmoid(z)), as
    /// torch.nn.BCEWithLogitsLoss, in the stable form max(z, 0) - z y + ln(1 + exp(-|z|)).
    BceLogits,
}

/// Where torch.nn.BCELoss clamps its logarithms.
const LOG_FLOOR: f64 = -100.0;

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

    /// Parses `mse`, `mae`, `huber` (delta 1, torch's default), `huber:delta=0.5`, `bce` or
    /// `bce-logits`.
    pub fn parse(text: &str) -> Result<Loss> {
        let unknown = || {
            Error::Invalid(format!(
                "unknown loss `{}`; use mse, mae, huber, huber:delta=<number>, bce or bce-logits",
                crate::data::clip(text, 40)
            ))
        };
        match text {
            "mse" => Ok(Loss::Mse),
            "mae" => Ok(Loss::Mae),
            "huber" => Loss::huber(1.0),
            "bce" => Ok(Loss::Bce),
            "bce-logits" => Ok(Loss::BceLogits),
            _ => {
                let value = text.strip_prefix("huber:delta=").ok_or_else(unknown)?;
                let delta = value.parse::<f64>().map_err(|_| {
                    Error::Invalid(format!(
                        "huber delta `{}` is not a number, e.g. huber:delta=0.5",
                        crate::data::clip(value, 40)
                    ))
                })?;
                Loss::huber(delta)
            }
        }
    }

    /// Whether the loss reads targets as class-1 probabilities (a cross-entropy).
    pub fn is_cross_entropy(self) -> bool {
        matches!(self, Loss::Bce | Loss::BceLogits)
    }

    /// Checks that every target suits the loss: a cross-entropy needs targets in [0, 1] (0/1
    /// class labels, or probabilities). The error names the first bad row (1-based).
    pub fn check_targets(self, targets: &[f64]) -> Result<()> {
        if !self.is_cross_entropy() {
            return Ok(());
        }
        match targets.iter().position(|y| !(0.0..=1.0).contains(y)) {
            None => Ok(()),
            Some(row) => Err(Error::Invalid(format!(
                "target {} in data row {} is not a class label 0/1 or a probability in [0, 1], which {self} needs; \
                 recode the labels to 0 and 1 or use a regression loss such as mse",
                targets[row],
                row + 1
            ))),
        }
    }

    /// The penalty of `prediction` against `target`.
    #[inline]
    pub fn penalty(self, prediction: f64, target: f64) -> f64 {
        let r = prediction - target;
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
            Loss::Bce => {
                if !(0.0..=1.0).contains(&prediction) {
                    return f64::NAN;
                }
                let (ln_p, ln_q) = (prediction.ln().max(LOG_FLOOR), (-prediction).ln_1p().max(LOG_FLOOR));
                -(target * ln_p + (1.0 - target) * ln_q)
            }
            Loss::BceLogits => {
                let z = prediction;
                z.max(0.0) - z * target + (-z.abs()).exp().ln_1p()
            }
        }
    }

    /// d penalty / d prediction.
    #[inline]
    pub fn slope(self, prediction: f64, target: f64) -> f64 {
        let r = prediction - target;
        match self {
            Loss::Mse => 2.0 * r,
            Loss::Mae => sign(r),
            Loss::Huber { delta } => r.clamp(-delta, delta),
            // -y/p + (1-y)/(1-p) = (p - y) / (p (1 - p)).
            Loss::Bce => {
                let p = prediction;
                if !(0.0..=1.0).contains(&p) {
                    return f64::NAN;
                }
                r / (p * (1.0 - p))
            }
            Loss::BceLogits => sigmoid(prediction) - target,
        }
    }

    /// d2 penalty / d prediction2 (the generalised value 0 at the kinks of mae and huber).
    #[inline]
    pub fn curvature(self, prediction: f64, target: f64) -> f64 {
        let r = prediction - target;
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
            Loss::Bce => {
                let p = prediction;
                if !(0.0..=1.0).contains(&p) {
                    return f64::NAN;
                }
                target / (p * p) + (1.0 - target) / ((1.0 - p) * (1.0 - p))
            }
            Loss::BceLogits => {
                let s = sigmoid(prediction);
                s * (1.0 - s)
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

/// 1 / (1 + exp(-z)) without overflow for large |z|.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::Mse => f.write_str("mse"),
            Loss::Mae => f.write_str("mae"),
            Loss::Huber { delta } => write!(f, "huber(delta={delta})"),
            Loss::Bce => f.write_str("bce"),
            Loss::BceLogits => f.write_str("bce-logits"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalties_at_hand_points() {
        assert_eq!(Loss::Mse.penalty(-3.0, 0.0), 9.0);
        assert_eq!(Loss::Mae.penalty(-1.0, 2.0), 3.0);
        let h = Loss::huber(1.0).unwrap();
        assert_eq!(h.penalty(0.5, 0.0), 0.125);
        assert_eq!(h.penalty(-3.0, 0.0), 2.5);
        assert_eq!(h.slope(-3.0, 0.0), -1.0);
        assert_eq!(h.slope(0.25, 0.0), 0.25);
        // -ln(0.8) for a confident right answer, -ln(0.2) for a wrong one.
        assert!((Loss::Bce.penalty(0.8, 1.0) - 0.2231435513142097).abs() < 1e-15);
        assert!((Loss::Bce.penalty(0.8, 0.0) - 1.6094379124341003).abs() < 1e-15);
        // torch clamps the log at -100: BCELoss(0, 1) = 100.
        assert_eq!(Loss::Bce.penalty(0.0, 1.0), 100.0);
        assert!(Loss::Bce.penalty(1.5, 1.0).is_nan());
        // ln(1 + e^-2) = softplus(-2), and the logit form equals bce of sigmoid(z).
        assert!((Loss::BceLogits.penalty(2.0, 1.0) - 0.12692801104297263).abs() < 1e-15);
        let z = -0.7f64;
        let p = 1.0 / (1.0 + (-z).exp());
        assert!((Loss::BceLogits.penalty(z, 0.3) - Loss::Bce.penalty(p, 0.3)).abs() < 1e-14);
    }

    #[test]
    fn bce_logits_is_stable_far_out() {
        // A naive ln(sigmoid(z)) would give ln(0) = -inf here.
        assert!((Loss::BceLogits.penalty(-800.0, 1.0) - 800.0).abs() < 1e-12);
        assert_eq!(Loss::BceLogits.penalty(800.0, 1.0), 0.0);
        assert_eq!(Loss::BceLogits.slope(-800.0, 1.0), -1.0);
    }

    #[test]
    fn slopes_match_finite_differences() {
        let cases = [
            (Loss::Mse, 0.4),
            (Loss::Mae, 0.4),
            (Loss::huber(0.7).unwrap(), 0.4),
            (Loss::BceLogits, 1.0),
            (Loss::BceLogits, 0.25),
        ];
        for (loss, y) in cases {
            for p in [-2.3, -0.4, 0.3, 1.9] {
                let h = 1e-6;
                let fd = (loss.penalty(p + h, y) - loss.penalty(p - h, y)) / (2.0 * h);
                assert!((fd - loss.slope(p, y)).abs() < 1e-6, "{loss} at {p}");
                let fd2 = (loss.slope(p + h, y) - loss.slope(p - h, y)) / (2.0 * h);
                assert!((fd2 - loss.curvature(p, y)).abs() < 1e-6, "{loss} at {p}");
            }
        }
        for y in [0.0, 1.0, 0.3] {
            for p in [0.1, 0.45, 0.9] {
                let h = 1e-7;
                let fd = (Loss::Bce.penalty(p + h, y) - Loss::Bce.penalty(p - h, y)) / (2.0 * h);
                assert!((fd - Loss::Bce.slope(p, y)).abs() < 1e-5, "bce at {p}, {y}");
                let fd2 = (Loss::Bce.slope(p + h, y) - Loss::Bce.slope(p - h, y)) / (2.0 * h);
                assert!((fd2 - Loss::Bce.curvature(p, y)).abs() < 1e-4 * (1.0 + fd2.abs()), "bce at {p}");
            }
        }
    }

    #[test]
    fn cross_entropy_targets_are_checked_by_row() {
        assert!(Loss::Bce.check_targets(&[0.0, 1.0, 0.5]).is_ok());
        let e = Loss::BceLogits.check_targets(&[0.0, 1.0, 2.0]).unwrap_err().to_string();
        assert!(e.contains("row 3") && e.contains("0/1"), "{e}");
        assert!(Loss::Mse.check_targets(&[7.0]).is_ok());
    }

    #[test]
    fn parse_names_and_delta() {
        assert_eq!(Loss::parse("mse").unwrap(), Loss::Mse);
        assert_eq!(Loss::parse("bce-logits").unwrap(), Loss::BceLogits);
        assert_eq!(Loss::parse("huber:delta=0.5").unwrap(), Loss::Huber { delta: 0.5 });
        assert!(Loss::parse("huber:delta=-1").unwrap_err().to_string().contains("> 0"));
        assert!(Loss::parse("l2").unwrap_err().to_string().contains("unknown loss `l2`"));
    }
}
