//! Optimizers with the update rules and defaults of their torch.optim counterparts (PyTorch 2.x
//! documentation, "Algorithms" sections), so a path drawn here is the path torch would take from the
//! same start on the same full-batch loss.
//!
//! Notation: theta parameters, g the gradient at step t (t = 1, 2, ...), lr the learning rate.
//! Weight decay, where an optimizer has it, is torch's: g <- g + wd * theta (L2), except AdamW, which
//! decays the parameters directly.

use std::fmt;

use crate::error::{Error, Result};

/// Something that turns gradients into parameter updates.
pub trait Optimizer: fmt::Debug + Send {
    /// Updates `theta` in place given the gradient at `theta`.
    fn step(&mut self, theta: &mut [f64], grad: &[f64]);

    /// Forgets all state (momentum buffers, step count), as a fresh torch optimizer would be.
    fn reset(&mut self);
}

/// Which algorithm, with every setting explicit.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimizerSpec {
    /// torch.optim.SGD with momentum = 0: theta <- theta - lr * g.
    Gd {
        /// Learning rate.
        lr: f64,
        /// L2 weight decay (torch default 0).
        weight_decay: f64,
    },
    /// torch.optim.SGD with momentum mu > 0 (heavy ball): b_1 = g_1, b_t = mu * b_{t-1} +
    /// (1 - dampening) * g_t; theta <- theta - lr * b_t. Defaults here: momentum 0.9, dampening 0.
    Momentum {
        /// Learning rate.
        lr: f64,
        /// mu.
        momentum: f64,
        /// torch's dampening (default 0).
        dampening: f64,
        /// L2 weight decay (default 0).
        weight_decay: f64,
    },
    /// torch.optim.SGD with nesterov=True: b_t as for momentum (dampening 0), then
    /// theta <- theta - lr * (g_t + mu * b_t). Default momentum 0.9.
    Nesterov {
        /// Learning rate.
        lr: f64,
        /// mu.
        momentum: f64,
        /// L2 weight decay (default 0).
        weight_decay: f64,
    },
    /// torch.optim.Adagrad: s_t = s_{t-1} + g_t^2 (s_0 = initial_accumulator_value = 0),
    /// clr = lr / (1 + (t - 1) * lr_decay), theta <- theta - clr * g_t / (sqrt(s_t) + eps).
    /// Defaults: lr 0.01, lr_decay 0, eps 1e-10.
    AdaGrad {
        /// Learning rate.
        lr: f64,
        /// Learning-rate decay.
        lr_decay: f64,
        /// eps.
        eps: f64,
        /// L2 weight decay (default 0).
        weight_decay: f64,
    },
    /// torch.optim.RMSprop: v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2 (v_0 = 0); with
    /// centered, v~ = v_t - a_t^2 where a_t = alpha * a_{t-1} + (1 - alpha) * g_t, else v~ = v_t; with
    /// momentum mu > 0, b_t = mu * b_{t-1} + g_t / (sqrt(v~) + eps) and theta <- theta - lr * b_t,
    /// else theta <- theta - lr * g_t / (sqrt(v~) + eps). Defaults: lr 0.01, alpha 0.99, eps 1e-8,
    /// momentum 0, not centered.
    RmsProp {
        /// Learning rate.
        lr: f64,
        /// Smoothing constant.
        alpha: f64,
        /// eps.
        eps: f64,
        /// Momentum (0 = none).
        momentum: f64,
        /// Centered variant (1 = yes, 0 = no).
        centered: bool,
        /// L2 weight decay (default 0).
        weight_decay: f64,
    },
    /// torch.optim.Adam: m_t = beta1 m_{t-1} + (1 - beta1) g_t, v_t = beta2 v_{t-1} + (1 - beta2) g_t^2,
    /// m^ = m_t / (1 - beta1^t), v^ = v_t / (1 - beta2^t), theta <- theta - lr * m^ / (sqrt(v^) + eps).
    /// Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0 (L2 on the gradient).
    Adam {
        /// Learning rate.
        lr: f64,
        /// beta1.
        beta1: f64,
        /// beta2.
        beta2: f64,
        /// eps.
        eps: f64,
        /// L2 weight decay added to the gradient (default 0).
        weight_decay: f64,
    },
    /// torch.optim.AdamW: theta <- theta * (1 - lr * weight_decay), then the Adam update without L2.
    /// Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2.
    AdamW {
        /// Learning rate.
        lr: f64,
        /// beta1.
        beta1: f64,
        /// beta2.
        beta2: f64,
        /// eps.
        eps: f64,
        /// Decoupled weight decay (default 0.01).
        weight_decay: f64,
    },
}

/// The optimizer names accepted by [`OptimizerSpec::parse`].
pub const OPTIMIZER_NAMES: [&str; 7] = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"];

impl OptimizerSpec {
    /// Parses `NAME` or `NAME:key=value,key=value`, e.g. `gd:lr=0.1`, `adam:lr=0.1,beta1=0.8`.
    /// Unspecified settings take torch's defaults (gd, momentum and nesterov, whose learning rate
    /// torch requires, default to 0.01).
    pub fn parse(text: &str) -> Result<OptimizerSpec> {
        let (name, settings) = match text.split_once(':') {
            Some((n, s)) => (n.trim(), s),
            None => (text.trim(), ""),
        };
        let mut spec = match name {
            "gd" | "sgd" => OptimizerSpec::Gd { lr: 0.01, weight_decay: 0.0 },
            "momentum" => {
                OptimizerSpec::Momentum { lr: 0.01, momentum: 0.9, dampening: 0.0, weight_decay: 0.0 }
            }
            "nesterov" => OptimizerSpec::Nesterov { lr: 0.01, momentum: 0.9, weight_decay: 0.0 },
            "adagrad" => OptimizerSpec::AdaGrad { lr: 0.01, lr_decay: 0.0, eps: 1e-10, weight_decay: 0.0 },
            "rmsprop" => OptimizerSpec::RmsProp {
                lr: 0.01,
                alpha: 0.99,
                eps: 1e-8,
                momentum: 0.0,
                centered: false,
                weight_decay: 0.0,
            },
            "adam" => {
                OptimizerSpec::Adam { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
            }
            "adamw" => {
                OptimizerSpec::AdamW { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-2 }
            }
            _ => {
                return Err(Error::Invalid(format!(
                    "unknown optimizer `{name}`; use one of {}",
                    OPTIMIZER_NAMES.join(", ")
                )))
            }
        };
        let mut seen: Vec<&str> = Vec::new();
        for item in settings.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item.split_once('=').ok_or_else(|| {
                Error::Invalid(format!("optimizer setting `{item}` in `{text}` should look like key=value"))
            })?;
            // A second value for a setting is a typo more often than an intent: say which one.
            if seen.contains(&key.trim()) {
                return Err(Error::Invalid(format!(
                    "optimizer `{text}` sets `{}` twice; give each setting once",
                    key.trim()
                )));
            }
            seen.push(key.trim());
            let value: f64 = value.trim().parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
                Error::Invalid(format!(
                    "optimizer setting `{item}` in `{text}`: `{value}` is not a finite number"
                ))
            })?;
            spec.set(key.trim(), value, text)?;
        }
        spec.validate(text)?;
        Ok(spec)
    }

    fn set(&mut self, key: &str, value: f64, text: &str) -> Result<()> {
        let slot: Option<&mut f64> =
            match (self, key) {
                (OptimizerSpec::Gd { lr, .. }, "lr")
                | (OptimizerSpec::Momentum { lr, .. }, "lr")
                | (OptimizerSpec::Nesterov { lr, .. }, "lr")
                | (OptimizerSpec::AdaGrad { lr, .. }, "lr")
                | (OptimizerSpec::RmsProp { lr, .. }, "lr")
                | (OptimizerSpec::Adam { lr, .. }, "lr")
                | (OptimizerSpec::AdamW { lr, .. }, "lr") => Some(lr),
                (OptimizerSpec::Gd { weight_decay, .. }, "weight_decay")
                | (OptimizerSpec::Momentum { weight_decay, .. }, "weight_decay")
                | (OptimizerSpec::Nesterov { weight_decay, .. }, "weight_decay")
                | (OptimizerSpec::AdaGrad { weight_decay, .. }, "weight_decay")
                | (OptimizerSpec::RmsProp { weight_decay, .. }, "weight_decay")
                | (OptimizerSpec::Adam { weight_decay, .. }, "weight_decay")
                | (OptimizerSpec::AdamW { weight_decay, .. }, "weight_decay") => Some(weight_decay),
                (OptimizerSpec::Momentum { momentum, .. }, "momentum")
                | (OptimizerSpec::Nesterov { momentum, .. }, "momentum")
                | (OptimizerSpec::RmsProp { momentum, .. }, "momentum") => Some(momentum),
                (OptimizerSpec::Momentum { dampening, .. }, "dampening") => Some(dampening),
                (OptimizerSpec::AdaGrad { lr_decay, .. }, "lr_decay") => Some(lr_decay),
                (OptimizerSpec::AdaGrad { eps, .. }, "eps")
                | (OptimizerSpec::RmsProp { eps, .. }, "eps")
                | (OptimizerSpec::Adam { eps, .. }, "eps")
                | (OptimizerSpec::AdamW { eps, .. }, "eps") => Some(eps),
                (OptimizerSpec::RmsProp { alpha, .. }, "alpha") => Some(alpha),
                (OptimizerSpec::Adam { beta1, .. }, "beta1")
                | (OptimizerSpec::AdamW { beta1, .. }, "beta1") => Some(beta1),
                (OptimizerSpec::Adam { beta2, .. }, "beta2")
                | (OptimizerSpec::AdamW { beta2, .. }, "beta2") => Some(beta2),
                (OptimizerSpec::RmsProp { centered, .. }, "centered") => {
                    *centered = value != 0.0;
                    None
                }
                (spec, _) => {
                    return Err(Error::Invalid(format!(
                        "optimizer `{}` has no setting `{key}` (in `{text}`); its settings are {}",
                        spec.name(),
                        spec.settings().iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                    )))
                }
            };
        if let Some(slot) = slot {
            *slot = value;
        }
        Ok(())
    }

    fn validate(&self, text: &str) -> Result<()> {
        for (key, value) in self.settings() {
            let ok = match key {
                "lr" => value > 0.0,
                "momentum" | "dampening" | "alpha" | "beta1" | "beta2" => (0.0..1.0).contains(&value),
                _ => value >= 0.0,
            };
            if !ok {
                let want = match key {
                    "lr" => "> 0",
                    "momentum" | "dampening" | "alpha" | "beta1" | "beta2" => "in [0, 1)",
                    _ => ">= 0",
                };
                return Err(Error::Invalid(format!("optimizer `{text}`: {key} = {value} must be {want}")));
            }
        }
        Ok(())
    }

    /// The command-line name.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerSpec::Gd { .. } => "gd",
            OptimizerSpec::Momentum { .. } => "momentum",
            OptimizerSpec::Nesterov { .. } => "nesterov",
            OptimizerSpec::AdaGrad { .. } => "adagrad",
            OptimizerSpec::RmsProp { .. } => "rmsprop",
            OptimizerSpec::Adam { .. } => "adam",
            OptimizerSpec::AdamW { .. } => "adamw",
        }
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        self.settings()[0].1
    }

    /// Every setting as (name, value), learning rate first; booleans as 0 or 1.
    pub fn settings(&self) -> Vec<(&'static str, f64)> {
        match *self {
            OptimizerSpec::Gd { lr, weight_decay } => vec![("lr", lr), ("weight_decay", weight_decay)],
            OptimizerSpec::Momentum { lr, momentum, dampening, weight_decay } => vec![
                ("lr", lr),
                ("momentum", momentum),
                ("dampening", dampening),
                ("weight_decay", weight_decay),
            ],
            OptimizerSpec::Nesterov { lr, momentum, weight_decay } => {
                vec![("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)]
            }
            OptimizerSpec::AdaGrad { lr, lr_decay, eps, weight_decay } => {
                vec![("lr", lr), ("lr_decay", lr_decay), ("eps", eps), ("weight_decay", weight_decay)]
            }
            OptimizerSpec::RmsProp { lr, alpha, eps, momentum, centered, weight_decay } => vec![
                ("lr", lr),
                ("alpha", alpha),
                ("eps", eps),
                ("momentum", momentum),
                ("centered", if centered { 1.0 } else { 0.0 }),
                ("weight_decay", weight_decay),
            ],
            OptimizerSpec::Adam { lr, beta1, beta2, eps, weight_decay }
            | OptimizerSpec::AdamW { lr, beta1, beta2, eps, weight_decay } => vec![
                ("lr", lr),
                ("beta1", beta1),
                ("beta2", beta2),
                ("eps", eps),
                ("weight_decay", weight_decay),
            ],
        }
    }

    /// A short label for legends: the name and the settings that differ from the defaults, plus
    /// the learning rate always, e.g. `adam lr=0.1`.
    pub fn label(&self) -> String {
        let defaults = OptimizerSpec::parse(self.name()).expect("bare names parse");
        let mut parts = vec![self.name().to_string()];
        for ((key, value), (_, default)) in self.settings().into_iter().zip(defaults.settings()) {
            if key == "lr" || value != default {
                // Plain decimals read best, but 1e150 written out is 151 digits.
                let shown = if value != 0.0 && !(1e-4..1e6).contains(&value.abs()) {
                    format!("{value:e}")
                } else {
                    format!("{value}")
                };
                parts.push(format!("{key}={shown}"));
            }
        }
        parts.join(" ")
    }

    /// A fresh optimizer for `n` parameters.
    pub fn build(&self, n: usize) -> Box<dyn Optimizer> {
        Box::new(State { spec: self.clone(), t: 0, a: vec![0.0; n], b: vec![0.0; n], c: vec![0.0; n] })
    }
}

/// The running state of any optimizer: a step count and up to three per-parameter buffers, whose
/// meaning depends on the algorithm (momentum buffer, squared-gradient average, ...).
#[derive(Debug, Clone)]
struct State {
    spec: OptimizerSpec,
    t: u64,
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

impl Optimizer for State {
    fn reset(&mut self) {
        self.t = 0;
        for buffer in [&mut self.a, &mut self.b, &mut self.c] {
            buffer.iter_mut().for_each(|x| *x = 0.0);
        }
    }

    fn step(&mut self, theta: &mut [f64], grad: &[f64]) {
        self.t += 1;
        let t = self.t;
        for i in 0..theta.len() {
            let g0 = grad[i];
            match self.spec {
                OptimizerSpec::Gd { lr, weight_decay } => {
                    theta[i] -= lr * (g0 + weight_decay * theta[i]);
                }
                OptimizerSpec::Momentum { lr, momentum, dampening, weight_decay } => {
                    let g = g0 + weight_decay * theta[i];
                    let buf = &mut self.a[i];
                    *buf = if t == 1 { g } else { momentum * *buf + (1.0 - dampening) * g };
                    theta[i] -= lr * *buf;
                }
                OptimizerSpec::Nesterov { lr, momentum, weight_decay } => {
                    let g = g0 + weight_decay * theta[i];
                    let buf = &mut self.a[i];
                    *buf = if t == 1 { g } else { momentum * *buf + g };
                    theta[i] -= lr * (g + momentum * *buf);
                }
                OptimizerSpec::AdaGrad { lr, lr_decay, eps, weight_decay } => {
                    let g = g0 + weight_decay * theta[i];
                    let clr = lr / (1.0 + (t - 1) as f64 * lr_decay);
                    self.a[i] += g * g;
                    theta[i] -= clr * g / (self.a[i].sqrt() + eps);
                }
                OptimizerSpec::RmsProp { lr, alpha, eps, momentum, centered, weight_decay } => {
                    let g = g0 + weight_decay * theta[i];
                    self.a[i] = alpha * self.a[i] + (1.0 - alpha) * g * g;
                    let mut avg = self.a[i];
                    if centered {
                        self.b[i] = alpha * self.b[i] + (1.0 - alpha) * g;
                        avg -= self.b[i] * self.b[i];
                    }
                    let scaled = g / (avg.sqrt() + eps);
                    if momentum > 0.0 {
                        self.c[i] = momentum * self.c[i] + scaled;
                        theta[i] -= lr * self.c[i];
                    } else {
                        theta[i] -= lr * scaled;
                    }
                }
                OptimizerSpec::Adam { lr, beta1, beta2, eps, weight_decay } => {
                    let g = g0 + weight_decay * theta[i];
                    adam_update(&mut theta[i], g, &mut self.a[i], &mut self.b[i], t, lr, beta1, beta2, eps);
                }
                OptimizerSpec::AdamW { lr, beta1, beta2, eps, weight_decay } => {
                    theta[i] *= 1.0 - lr * weight_decay;
                    adam_update(&mut theta[i], g0, &mut self.a[i], &mut self.b[i], t, lr, beta1, beta2, eps);
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn adam_update(
    theta: &mut f64,
    g: f64,
    m: &mut f64,
    v: &mut f64,
    t: u64,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
) {
    *m = beta1 * *m + (1.0 - beta1) * g;
    *v = beta2 * *v + (1.0 - beta2) * g * g;
    let m_hat = *m / (1.0 - beta1.powi(t as i32));
    let v_hat = *v / (1.0 - beta2.powi(t as i32));
    *theta -= lr * m_hat / (v_hat.sqrt() + eps);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three steps on f(x, y) = x^2 + 10 y^2 (gradient (2x, 20y)) from (1, 1).
    fn three_steps(spec: &str) -> Vec<[f64; 2]> {
        let mut opt = OptimizerSpec::parse(spec).unwrap().build(2);
        let mut theta = [1.0, 1.0];
        (0..3)
            .map(|_| {
                let g = [2.0 * theta[0], 20.0 * theta[1]];
                opt.step(&mut theta, &g);
                theta
            })
            .collect()
    }

    fn assert_steps(spec: &str, want: [[f64; 2]; 3]) {
        let got = three_steps(spec);
        for (g, w) in got.iter().zip(want) {
            for k in 0..2 {
                assert!((g[k] - w[k]).abs() < 1e-12 * (1.0 + w[k].abs()), "{spec}: {got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn gd_by_hand() {
        // x <- x - 0.01 * 2x = 0.98 x; y <- y - 0.01 * 20 y = 0.8 y.
        assert_steps("gd:lr=0.01", [[0.98, 0.8], [0.9604, 0.64], [0.941192, 0.512]]);
    }

    #[test]
    fn momentum_by_hand() {
        // lr 0.01, mu 0.9. x: g1 = 2, b1 = 2, x1 = 0.98; g2 = 1.96, b2 = 1.8 + 1.96 = 3.76,
        // x2 = 0.98 - 0.0376 = 0.9424; g3 = 1.8848, b3 = 3.384 + 1.8848 = 5.2688, x3 = 0.889712.
        // y: g1 = 20, b1 = 20, y1 = 0.8; g2 = 16, b2 = 18 + 16 = 34, y2 = 0.46; g3 = 9.2,
        // b3 = 30.6 + 9.2 = 39.8, y3 = 0.062.
        assert_steps("momentum:lr=0.01", [[0.98, 0.8], [0.9424, 0.46], [0.889712, 0.062]]);
    }

    #[test]
    fn nesterov_by_hand() {
        // x: g1 = 2, b1 = 2, x1 = 1 - 0.01 (2 + 1.8) = 0.962; g2 = 1.924, b2 = 1.8 + 1.924 = 3.724,
        // x2 = 0.962 - 0.01 (1.924 + 3.3516) = 0.909244; g3 = 1.818488, b3 = 3.3516 + 1.818488
        // = 5.170088, x3 = 0.909244 - 0.01 (1.818488 + 4.6530792) = 0.844528328.
        // y: g1 = 20, b1 = 20, y1 = 1 - 0.01 (20 + 18) = 0.62; g2 = 12.4, b2 = 18 + 12.4 = 30.4,
        // y2 = 0.62 - 0.01 (12.4 + 27.36) = 0.2224; g3 = 4.448, b3 = 27.36 + 4.448 = 31.808,
        // y3 = 0.2224 - 0.01 (4.448 + 28.6272) = -0.108352.
        assert_steps("nesterov:lr=0.01", [[0.962, 0.62], [0.909244, 0.2224], [0.844528328, -0.108352]]);
    }

    #[test]
    fn adagrad_by_hand() {
        // lr 0.1: x: s1 = 4, x1 = 1 - 0.1 * 2 / 2 = 0.9; g2 = 1.8, s2 = 7.24,
        // x2 = 0.9 - 0.18 / sqrt(7.24) = 0.83310; g3 = 2 x2, s3 = s2 + g3^2, x3 = x2 - 0.1 g3 / sqrt(s3).
        let x2 = 0.9 - 0.18 / 7.24f64.sqrt();
        let s3 = 7.24 + (2.0 * x2).powi(2);
        let x3 = x2 - 0.1 * 2.0 * x2 / s3.sqrt();
        // y: s1 = 400, y1 = 1 - 0.1 * 20 / 20 = 0.9; g2 = 18, s2 = 724, y2 = 0.9 - 1.8 / sqrt(724).
        let y2 = 0.9 - 1.8 / 724f64.sqrt();
        let t3 = 724.0 + (20.0 * y2).powi(2);
        let y3 = y2 - 0.1 * 20.0 * y2 / t3.sqrt();
        // eps = 1e-10 shifts these by < 1e-11 relative.
        let got = three_steps("adagrad:lr=0.1,eps=0");
        assert!((got[0][0] - 0.9).abs() < 1e-15 && (got[0][1] - 0.9).abs() < 1e-15);
        assert!((got[1][0] - x2).abs() < 1e-15 && (got[1][1] - y2).abs() < 1e-15);
        assert!((got[2][0] - x3).abs() < 1e-15 && (got[2][1] - y3).abs() < 1e-15);
        assert!((x2 - 0.833_103_4).abs() < 1e-6, "{x2}");
    }

    #[test]
    fn rmsprop_by_hand() {
        // lr 0.01, alpha 0.99, eps 0: v1 = 0.01 g1^2, step = lr g1 / (0.1 |g1|) = 0.1 sign(g1).
        // x1 = 0.9, y1 = 0.9. v2 = 0.99 * 0.04 + 0.01 * 3.24 = 0.072, x2 = 0.9 - 0.01 * 1.8 / sqrt(0.072).
        let x2 = 0.9 - 0.018 / 0.072f64.sqrt();
        // y: v1 = 4, v2 = 3.96 + 0.01 * 324 = 7.2, y2 = 0.9 - 0.01 * 18 / sqrt(7.2).
        let y2 = 0.9 - 0.18 / 7.2f64.sqrt();
        let vx3 = 0.99 * 0.072 + 0.01 * (2.0 * x2).powi(2);
        let vy3 = 0.99 * 7.2 + 0.01 * (20.0 * y2).powi(2);
        let (x3, y3) = (x2 - 0.01 * 2.0 * x2 / vx3.sqrt(), y2 - 0.01 * 20.0 * y2 / vy3.sqrt());
        assert_steps("rmsprop:eps=0", [[0.9, 0.9], [x2, y2], [x3, y3]]);
        assert!((x2 - 0.832_918).abs() < 1e-6, "{x2}");
    }

    #[test]
    fn adam_by_hand() {
        // lr 0.1, eps 0. Step 1: m^ = g, v^ = g^2, so each coordinate moves by lr * sign(g) = 0.1.
        // Step 2 for x: g2 = 1.8; m2 = 0.9 * 0.2 + 0.1 * 1.8 = 0.36, m^ = 0.36 / 0.19;
        // v2 = 0.999 * 0.004 + 0.001 * 3.24 = 0.007236, v^ = 0.007236 / 0.001999.
        let m_hat = 0.36 / 0.19;
        let v_hat = 0.007236 / (1.0 - 0.999f64.powi(2));
        let x2 = 0.9 - 0.1 * m_hat / v_hat.sqrt();
        // y: g1 = 20, m1 = 2, v1 = 0.4; g2 = 18: m2 = 1.8 + 1.8 = 3.6, v2 = 0.3996 + 0.324 = 0.7236.
        let y2 = 0.9 - 0.1 * (3.6 / 0.19) / (0.7236 / (1.0 - 0.999f64.powi(2))).sqrt();
        let got = three_steps("adam:lr=0.1,eps=0");
        assert!((got[0][0] - 0.9).abs() < 1e-15 && (got[0][1] - 0.9).abs() < 1e-15);
        assert!((got[1][0] - x2).abs() < 1e-14 && (got[1][1] - y2).abs() < 1e-14, "{got:?}");
        // Third x step by hand: g3 = 2 x2; m3 = 0.9 * 0.36 + 0.1 g3; v3 = 0.999 * 0.007236 + 0.001 g3^2.
        let g3 = 2.0 * x2;
        let m3 = 0.9 * 0.36 + 0.1 * g3;
        let v3 = 0.999 * 0.007236 + 0.001 * g3 * g3;
        let x3 = x2 - 0.1 * (m3 / (1.0 - 0.9f64.powi(3))) / (v3 / (1.0 - 0.999f64.powi(3))).sqrt();
        assert!((got[2][0] - x3).abs() < 1e-14);
    }

    #[test]
    fn adamw_decays_before_the_adam_step() {
        // lr 0.1, wd 0.5: x1 = 1 * (1 - 0.05) - 0.1 = 0.85 (Adam's first step is lr * sign(g)).
        let got = three_steps("adamw:lr=0.1,weight_decay=0.5,eps=0");
        assert!((got[0][0] - 0.85).abs() < 1e-15 && (got[0][1] - 0.85).abs() < 1e-15);
        // Step 2 for x: g2 = 1.7, theta decays to 0.85 * 0.95 = 0.8075 first;
        // m2 = 0.18 + 0.17 = 0.35, v2 = 0.003996 + 0.00289 = 0.006886.
        let x2 = 0.8075 - 0.1 * (0.35 / 0.19) / (0.006886 / (1.0 - 0.999f64.powi(2))).sqrt();
        assert!((got[1][0] - x2).abs() < 1e-14, "{got:?} vs {x2}");
    }

    #[test]
    fn parse_errors_are_clear() {
        let e = |s: &str| OptimizerSpec::parse(s).unwrap_err().to_string();
        assert!(e("lbfgs").contains("unknown optimizer `lbfgs`"));
        assert!(e("gd:lr=-0.1").contains("lr = -0.1 must be > 0"));
        assert!(e("gd:lr=0").contains("must be > 0"));
        assert!(e("adam:gamma=2").contains("has no setting `gamma`"));
        assert!(e("adam:lr=abc").contains("not a finite number"));
        assert!(e("momentum:momentum=1").contains("in [0, 1)"));
        assert!(e("gd:lr=0.1,lr=0.2").contains("sets `lr` twice"));
        assert!(e("adam: beta1 =0.8,beta1=0.8").contains("sets `beta1` twice"));
        assert_eq!(OptimizerSpec::parse("adam:lr=0.1").unwrap().label(), "adam lr=0.1");
    }
}
