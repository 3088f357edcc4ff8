//! The live page's requests, validated: every parameter is checked (known name, finite number in
//! range, known case, transform and optimizer) before any work is done, and each problem is one
//! message that names the parameter, the value and what would be accepted.

use std::collections::BTreeMap;
use std::fmt;

use lossatlas::{OptimizerSpec, Transform, OPTIMIZER_NAMES};

/// The most steps a live run may take (the page's default is 400).
pub const MAX_STEPS: usize = 5000;
/// The largest and smallest landscape resolution a request may ask for.
pub const RESOLUTION: (usize, usize) = (11, 301);
/// The resolution of landscapes drawn on the page unless asked otherwise.
pub const DEFAULT_RESOLUTION: usize = 101;
/// The learning rate of a request that gives none.
pub const DEFAULT_LR: f64 = 0.1;
/// The largest learning rate a request may ask for.
pub const MAX_LR: f64 = 100.0;
/// Start points and ranges must lie within this distance of the origin.
pub const MAX_COORDINATE: f64 = 1e6;

/// A request the server refuses, with the reason (sent as a 400 response).
#[derive(Debug, Clone, PartialEq)]
pub struct BadRequest(pub String);

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadRequest {}

type Result<T> = std::result::Result<T, BadRequest>;

fn bad<T>(message: impl Into<String>) -> Result<T> {
    Err(BadRequest(message.into()))
}

/// A decoded query string: each name at most once.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: BTreeMap<String, String>,
}

impl Query {
    /// Decodes `a=1&b=x%20y` (percent escapes, `+` for space). Refuses bad escapes, text that is
    /// not UTF-8, a name given twice and more than 32 parameters.
    pub fn parse(text: &str) -> Result<Query> {
        let mut pairs = BTreeMap::new();
        for item in text.split('&').filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').unwrap_or((item, ""));
            let (name, value) = (decode(name)?, decode(value)?);
            if pairs.contains_key(&name) {
                return bad(format!("parameter `{name}` is given twice; give it once"));
            }
            pairs.insert(name, value);
            if pairs.len() > 32 {
                return bad("too many parameters (more than 32)");
            }
        }
        Ok(Query { pairs })
    }

    /// Refuses any parameter not in `known`.
    fn only(&self, known: &[&str]) -> Result<()> {
        match self.pairs.keys().find(|k| !known.contains(&k.as_str())) {
            Some(name) => bad(format!("unknown parameter `{name}`; this request takes {}", known.join(", "))),
            None => Ok(()),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs.get(name).map(String::as_str)
    }

    fn number(&self, name: &str) -> Result<Option<f64>> {
        let Some(text) = self.get(name) else { return Ok(None) };
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            Ok(_) => bad(format!("{name} = `{text}` is not a finite number")),
            Err(_) => bad(format!("{name} = `{text}` is not a number")),
        }
    }

    fn coordinate(&self, name: &str) -> Result<Option<f64>> {
        match self.number(name)? {
            Some(v) if v.abs() > MAX_COORDINATE => bad(format!(
                "{name} = {v} is too far out; use a value between -{MAX_COORDINATE} and {MAX_COORDINATE}"
            )),
            v => Ok(v),
        }
    }

    fn count(&self, name: &str, (lo, hi): (usize, usize)) -> Result<Option<usize>> {
        let Some(text) = self.get(name) else { return Ok(None) };
        match text.trim().parse::<usize>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
            _ => bad(format!("{name} = `{text}` must be a whole number from {lo} to {hi}")),
        }
    }

    /// The scene's name; which names exist is the server's to check (empty: its first scene).
    fn case(&self) -> Result<String> {
        let name = self.get("case").unwrap_or("");
        if name.len() > 64 || name.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            return bad(format!("case = `{}` is not a case name", name.chars().take(64).collect::<String>()));
        }
        Ok(name.to_string())
    }

    fn transform(&self) -> Result<Transform> {
        let name = self.get("transform").unwrap_or("none");
        name.parse::<Transform>().map_err(|_| {
            let names: Vec<&str> = Transform::ALL.iter().map(|t| t.name()).collect();
            BadRequest(format!("unknown transform `{name}`; the transforms are {}", names.join(", ")))
        })
    }
}

fn decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => out.push(byte),
                    None => return bad(format!("bad percent escape in `{text}`")),
                }
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| BadRequest(format!("`{text}` does not decode to UTF-8 text")))
}

/// `GET /api/landscape`: which landscape, over which range, how finely.
#[derive(Debug, Clone)]
pub struct LandscapeRequest {
    /// The scene's name (empty for the server's first).
    pub case: String,
    /// The input transform.
    pub transform: Transform,
    /// The (u, v) ranges; the case's (widened to show its optimum) when `None`.
    pub range: Option<[(f64, f64); 2]>,
    /// Grid points per axis.
    pub resolution: usize,
}

impl LandscapeRequest {
    /// Parameters: `case`, `transform`, `umin`, `umax`, `vmin`, `vmax` (all four or none), `n`.
    pub fn parse(query: &Query) -> Result<LandscapeRequest> {
        query.only(&["case", "transform", "umin", "umax", "vmin", "vmax", "n"])?;
        let case = query.case()?;
        let transform = query.transform()?;
        let ends = ["umin", "umax", "vmin", "vmax"]
            .iter()
            .map(|name| query.coordinate(name))
            .collect::<Result<Vec<Option<f64>>>>()?;
        let range = match ends[..] {
            [None, None, None, None] => None,
            [Some(a), Some(b), Some(c), Some(d)] => {
                for (name, lo, hi) in [("u", a, b), ("v", c, d)] {
                    if lo >= hi {
                        return bad(format!("{name}min = {lo} must be less than {name}max = {hi}"));
                    }
                }
                Some([(a, b), (c, d)])
            }
            _ => return bad("give all of umin, umax, vmin and vmax, or none of them"),
        };
        let resolution = query.count("n", RESOLUTION)?.unwrap_or(DEFAULT_RESOLUTION);
        Ok(LandscapeRequest { case, transform, range, resolution })
    }
}

/// `GET /api/paths`: optimizers run from one start point.
#[derive(Debug, Clone)]
pub struct PathsRequest {
    /// The scene's name (empty for the server's first).
    pub case: String,
    /// The input transform.
    pub transform: Transform,
    /// Where every run starts.
    pub start: [f64; 2],
    /// The optimizers, each with the request's learning rate and momentum.
    pub optimizers: Vec<OptimizerSpec>,
    /// The most steps per run.
    pub steps: usize,
}

impl PathsRequest {
    /// Parameters: `case`, `transform`, `u`, `v` (required), `lr`, `momentum`, `steps`,
    /// `optimizers` (comma separated names).
    pub fn parse(query: &Query) -> Result<PathsRequest> {
        let own: Vec<String> = OPTIMIZER_NAMES.iter().map(|n| format!("set_{n}")).collect();
        let mut known = vec!["case", "transform", "u", "v", "lr", "momentum", "steps", "optimizers"];
        known.extend(own.iter().map(String::as_str));
        query.only(&known)?;
        let case = query.case()?;
        let transform = query.transform()?;
        let (Some(u), Some(v)) = (query.coordinate("u")?, query.coordinate("v")?) else {
            return bad("give the start point as u=NUMBER&v=NUMBER");
        };
        let lr = query.number("lr")?.unwrap_or(DEFAULT_LR);
        if !(lr > 0.0 && lr <= MAX_LR) {
            return bad(format!("lr = {lr} must be greater than 0 and at most {MAX_LR}"));
        }
        let momentum = query.number("momentum")?.unwrap_or(0.9);
        if !(0.0..1.0).contains(&momentum) {
            return bad(format!("momentum = {momentum} must be at least 0 and less than 1"));
        }
        let steps = query.count("steps", (1, MAX_STEPS))?.unwrap_or(400);
        let names = query.get("optimizers").unwrap_or("gd,momentum,adam");
        let mut optimizers = Vec::new();
        for name in names.split(',').map(str::trim) {
            // An optimizer's own settings (`set_adam=lr=0.1,beta2=0.99`) replace the sliders' for it.
            let own = OPTIMIZER_NAMES.contains(&name).then(|| query.get(&format!("set_{name}"))).flatten();
            optimizers.push(match own.map(str::trim).filter(|s| !s.is_empty()) {
                Some(settings) => OptimizerSpec::parse(&format!("{name}:{settings}"))
                    .map_err(|e| BadRequest(format!("set_{name}: {e}")))?,
                None => spec(name, lr, momentum)?,
            });
        }
        let mut seen: Vec<&str> = optimizers.iter().map(|s| s.name()).collect();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return bad(format!("optimizers = `{names}` names an optimizer twice"));
        }
        Ok(PathsRequest { case, transform, start: [u, v], optimizers, steps })
    }
}

/// The optimizer `name` with learning rate `lr`; `momentum` is mu for momentum and nesterov and
/// beta1 for adam and adamw (the same idea: how much of the past direction is kept).
pub fn spec(name: &str, lr: f64, momentum: f64) -> Result<OptimizerSpec> {
    let text = match name {
        "momentum" | "nesterov" => format!("{name}:lr={lr},momentum={momentum}"),
        "adam" | "adamw" => format!("{name}:lr={lr},beta1={momentum}"),
        _ if OPTIMIZER_NAMES.contains(&name) => format!("{name}:lr={lr}"),
        _ => {
            return bad(format!(
                "unknown optimizer `{name}`; the optimizers are {}",
                OPTIMIZER_NAMES.join(", ")
            ))
        }
    };
    OptimizerSpec::parse(&text).map_err(|e| BadRequest(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(query: &str) -> Result<PathsRequest> {
        PathsRequest::parse(&Query::parse(query)?)
    }

    fn landscape(query: &str) -> Result<LandscapeRequest> {
        LandscapeRequest::parse(&Query::parse(query)?)
    }

    fn message<T: fmt::Debug>(result: Result<T>) -> String {
        result.unwrap_err().0
    }

    #[test]
    fn a_good_paths_request_parses() {
        let query = "case=fig5-sincos&transform=zscore&u=2&v=-4.5&lr=0.2&momentum=0.5&steps=40\
                     &optimizers=gd,nesterov,adam";
        let r = paths(query).unwrap();
        assert_eq!(r.case, "fig5-sincos");
        assert_eq!(r.transform, Transform::Zscore);
        assert_eq!(r.start, [2.0, -4.5]);
        assert_eq!(r.steps, 40);
        let labels: Vec<String> = r.optimizers.iter().map(|s| s.label()).collect();
        assert_eq!(labels, ["gd lr=0.2", "nesterov lr=0.2 momentum=0.5", "adam lr=0.2 beta1=0.5"]);
    }

    #[test]
    fn each_optimizer_takes_its_own_settings() {
        let r = paths("u=1&v=1&lr=0.2&optimizers=gd,adam,rmsprop&set_adam=lr%3D0.05%2Cbeta2%3D0.9&set_gd=")
            .unwrap();
        let labels: Vec<String> = r.optimizers.iter().map(|s| s.label()).collect();
        assert_eq!(labels, ["gd lr=0.2", "adam lr=0.05 beta2=0.9", "rmsprop lr=0.2"]);
        assert!(message(paths("u=1&v=1&optimizers=adam&set_adam=lr%3D-1")).contains("set_adam"));
        assert!(message(paths("u=1&v=1&set_lbfgs=lr%3D1")).contains("unknown parameter `set_lbfgs`"));
    }

    #[test]
    fn percent_escapes_decode() {
        let r = paths("u=%2D1&v=1e%2B0&optimizers=gd%2Cadam").unwrap();
        assert_eq!(r.start, [-1.0, 1.0]);
        assert_eq!(r.optimizers.len(), 2);
        assert!(message(Query::parse("u=%zz")).contains("percent escape"));
        assert!(message(Query::parse("u=%ff%fe")).contains("UTF-8"));
    }

    #[test]
    fn bad_paths_requests_name_the_problem() {
        assert!(message(paths("v=1")).contains("u=NUMBER&v=NUMBER"));
        assert!(message(paths("u=abc&v=1")).contains("u = `abc` is not a number"));
        assert!(message(paths("u=NaN&v=1")).contains("not a finite number"));
        assert!(message(paths("u=inf&v=1")).contains("not a finite number"));
        assert!(message(paths("u=1e300&v=1")).contains("too far out"));
        assert!(message(paths("u=1&v=1&lr=0")).contains("lr = 0 must be greater than 0"));
        assert!(message(paths("u=1&v=1&lr=-1")).contains("lr"));
        assert!(message(paths("u=1&v=1&lr=1000")).contains("at most 100"));
        assert!(message(paths("u=1&v=1&momentum=1")).contains("less than 1"));
        assert!(message(paths("u=1&v=1&steps=0")).contains("from 1 to 5000"));
        assert!(message(paths("u=1&v=1&steps=99999999999999999999")).contains("from 1 to 5000"));
        assert!(message(paths("u=1&v=1&steps=5001")).contains("from 1 to 5000"));
        assert!(message(paths("u=1&v=1&optimizers=gd,lbfgs")).contains("unknown optimizer `lbfgs`"));
        assert!(message(paths("u=1&v=1&optimizers=")).contains("unknown optimizer ``"));
        assert!(message(paths("u=1&v=1&optimizers=gd,gd")).contains("twice"));
        assert!(message(paths("u=1&v=1&case=a%20b")).contains("not a case name"));
        assert!(message(paths("u=1&v=1&transform=log")).contains("unknown transform `log`"));
        assert!(message(paths("u=1&v=1&x=2")).contains("unknown parameter `x`"));
        assert!(message(paths("u=1&u=2&v=1")).contains("given twice"));
    }

    #[test]
    fn landscape_requests_check_the_range_and_resolution() {
        let r = landscape("case=tanh&n=51&umin=-1&umax=1&vmin=0&vmax=2").unwrap();
        assert_eq!(r.range, Some([(-1.0, 1.0), (0.0, 2.0)]));
        assert_eq!(r.resolution, 51);
        assert_eq!(landscape("").unwrap().resolution, DEFAULT_RESOLUTION);
        assert!(
            message(landscape("umin=1&umax=0&vmin=0&vmax=1")).contains("umin = 1 must be less than umax = 0")
        );
        assert!(message(landscape("umin=0&umax=1")).contains("all of umin"));
        assert!(message(landscape("n=100000")).contains("from 11 to 301"));
        assert!(message(landscape("n=-3")).contains("from 11 to 301"));
        assert!(message(landscape("u=1")).contains("unknown parameter `u`"));
    }
}
