//! Tokenizer and recursive-descent parser from formula text to an expression [`Graph`].
//!
//! Grammar, loosest binding first (the usual mathematical conventions, with `^` right-associative
//! and binding tighter than unary minus, so `-x^2` is `-(x^2)` and `2^-x` is allowed):
//!
//! ```text
//! sum     = product (("+" | "-") product)*
//! product = unary (("*" | "/") unary)*
//! unary   = ("-" | "+") unary | power
//! power   = primary (("^" | "**") unary)?
//! primary = number | name | name "(" sum ("," sum)* ")" | "(" sum ")"
//! ```
//!
//! Every error names a 1-based character position (one past the end when the formula stops too
//! early), because formulas are typed on command lines where a caret cannot be shown.

use super::expr::{Func, Graph, Id};
use super::FormulaError;

/// Deepest nesting of parentheses, signs and powers accepted (the parser recurses once per level).
const MAX_NESTING: usize = 100;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    Open,
    Close,
    Comma,
    End,
}

impl Tok {
    /// How the token reads in an error message.
    fn describe(&self) -> String {
        match self {
            Tok::Num(v) => format!("number `{v}`"),
            Tok::Name(n) => format!("`{n}`"),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Caret => "`^`".into(),
            Tok::Open => "`(`".into(),
            Tok::Close => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::End => "end of formula".into(),
        }
    }
}

/// A token and the 1-based character position where it starts.
#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
}

/// How identifiers other than `x` and `pi` become parameters.
pub(crate) enum Params<'a> {
    /// Each new name becomes the next parameter, in order of first appearance.
    Discover(Vec<String>),
    /// Only these names, in this order; `used` records which ones occur.
    Fixed { names: &'a [&'a str], used: Vec<bool> },
}

impl Params<'_> {
    /// The parameter names, in index order.
    pub(crate) fn names(&self) -> Vec<String> {
        match self {
            Params::Discover(names) => names.clone(),
            Params::Fixed { names, .. } => names.iter().map(|n| n.to_string()).collect(),
        }
    }
}

fn error(source: &str, position: Option<usize>, message: String) -> FormulaError {
    FormulaError { source_text: source.to_string(), position, message }
}

fn tokenize(source: &str) -> Result<Vec<Token>, FormulaError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        let single = match c {
            '+' => Some(Tok::Plus),
            '-' => Some(Tok::Minus),
            '/' => Some(Tok::Slash),
            '^' => Some(Tok::Caret),
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                Some(Tok::Caret)
            }
            '*' => Some(Tok::Star),
            _ => None,
        };
        if let Some(tok) = single {
            tokens.push(Token { tok, pos });
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent: e or E, an optional sign, then digits (anything else after `e` is an error).
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                i += 1;
                if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
                    i += 1;
                }
                while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                    i += 1;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let value = text.parse::<f64>().map_err(|_| {
                error(source, Some(pos), format!("invalid number `{text}` at position {pos}"))
            })?;
            tokens.push(Token { tok: Tok::Num(value), pos });
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token { tok: Tok::Name(chars[start..i].iter().collect()), pos });
        } else {
            return Err(error(source, Some(pos), format!("unexpected character `{c}` at position {pos}")));
        }
    }
    tokens.push(Token { tok: Tok::End, pos: chars.len() + 1 });
    Ok(tokens)
}

/// The names `Formula` knows, for error messages.
fn known_functions() -> String {
    let mut names: Vec<&str> = Func::ALL.iter().map(|(n, _)| *n).collect();
    names.extend(["log", "pow"]);
    names.join(", ")
}

/// Arity and meaning of a function name (`log` is `ln`; `pow(a, b)` is `a^b`).
fn lookup_function(name: &str) -> Option<(usize, Option<Func>)> {
    match name {
        "log" => Some((1, Some(Func::Ln))),
        "pow" => Some((2, None)),
        _ => Func::ALL.iter().find(|(n, _)| *n == name).map(|&(_, f)| (1, Some(f))),
    }
}

/// Whether `name` can name an input or a parameter: an identifier that is neither `pi` nor a
/// function.
pub(crate) fn check_name(name: &str, what: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let identifier = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
        Err(format!(
            "`{name}` is not a valid {what} name (use letters, digits and `_`, starting with a letter)"
        ))
    } else if name == "pi" || lookup_function(name).is_some() {
        Err(format!("`{name}` cannot be {what}: it names a constant or function of formulas"))
    } else {
        Ok(())
    }
}

struct Parser<'s, 'p> {
    source: &'s str,
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
    graph: Graph,
    /// The names that stand for data columns (`x` unless the data says otherwise).
    inputs: &'p [String],
    params: Params<'p>,
}

/// Parses `source` into a graph and its root node.
pub(crate) fn parse<'p>(
    source: &str,
    inputs: &'p [String],
    params: Params<'p>,
) -> Result<(Graph, Id, Params<'p>), FormulaError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser { source, tokens, next: 0, depth: 0, graph: Graph::default(), inputs, params };
    let root = parser.sum()?;
    let token = parser.peek().clone();
    if token.tok != Tok::End {
        let hint = match (token.tok, parser.tokens.get(parser.next.wrapping_sub(1)).map(|t| &t.tok)) {
            (Tok::Close, _) => format!("unmatched `)` at position {}", token.pos),
            (
                tok @ (Tok::Num(_) | Tok::Name(_) | Tok::Open),
                Some(Tok::Num(_) | Tok::Name(_) | Tok::Close),
            ) => {
                format!(
                    "expected an operator before {} at position {} (write `*` for a product)",
                    tok.describe(),
                    token.pos
                )
            }
            (tok, _) => format!("unexpected {} at position {}", tok.describe(), token.pos),
        };
        return Err(error(source, Some(token.pos), hint));
    }
    Ok((parser.graph, root, parser.params))
}

impl Parser<'_, '_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.next]
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.next].clone();
        if token.tok != Tok::End {
            self.next += 1;
        }
        token
    }

    fn fail<T>(&self, pos: usize, message: String) -> Result<T, FormulaError> {
        Err(error(self.source, Some(pos), message))
    }

    fn sum(&mut self) -> Result<Id, FormulaError> {
        let mut left = self.product()?;
        loop {
            match self.peek().tok {
                Tok::Plus => {
                    self.advance();
                    let right = self.product()?;
                    left = self.graph.add(left, right);
                }
                Tok::Minus => {
                    self.advance();
                    let right = self.product()?;
                    left = self.graph.sub(left, right);
                }
                _ => return Ok(left),
            }
        }
    }

    fn product(&mut self) -> Result<Id, FormulaError> {
        let mut left = self.unary()?;
        loop {
            match self.peek().tok {
                Tok::Star => {
                    self.advance();
                    let right = self.unary()?;
                    left = self.graph.mul(left, right);
                }
                Tok::Slash => {
                    self.advance();
                    let right = self.unary()?;
                    left = self.graph.div(left, right);
                }
                _ => return Ok(left),
            }
        }
    }

    fn unary(&mut self) -> Result<Id, FormulaError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let pos = self.peek().pos;
            return self.fail(
                pos,
                format!("formula nests too deeply at position {pos} (at most {MAX_NESTING} levels)"),
            );
        }
        let result = match self.peek().tok {
            Tok::Minus => {
                self.advance();
                let operand = self.unary()?;
                Ok(self.graph.neg(operand))
            }
            Tok::Plus => {
                self.advance();
                self.unary()
            }
            _ => self.power(),
        };
        self.depth -= 1;
        result
    }

    fn power(&mut self) -> Result<Id, FormulaError> {
        let base = self.primary()?;
        if self.peek().tok == Tok::Caret {
            self.advance();
            let exponent = self.unary()?;
            return Ok(self.graph.pow(base, exponent));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Id, FormulaError> {
        let token = self.advance();
        match token.tok {
            Tok::Num(v) => Ok(self.graph.constant(v)),
            Tok::Name(name) if self.peek().tok == Tok::Open => self.call(&name, token.pos),
            Tok::Name(name) => self.variable(&name, token.pos),
            Tok::Open => {
                let inner = self.sum()?;
                let close = self.peek().clone();
                if close.tok != Tok::Close {
                    return self.fail(
                        close.pos,
                        format!(
                            "expected `)` at position {} to close the `(` at position {}, found {}",
                            close.pos,
                            token.pos,
                            close.tok.describe()
                        ),
                    );
                }
                self.advance();
                Ok(inner)
            }
            Tok::End => self.fail(
                token.pos,
                format!(
                    "unexpected end of formula at position {} (expected a number, a name or `(`)",
                    token.pos
                ),
            ),
            tok => self.fail(
                token.pos,
                format!(
                    "unexpected {} at position {} (expected a number, a name or `(`)",
                    tok.describe(),
                    token.pos
                ),
            ),
        }
    }

    fn call(&mut self, name: &str, pos: usize) -> Result<Id, FormulaError> {
        let Some((arity, func)) = lookup_function(name) else {
            return self.fail(
                pos,
                format!("unknown function `{name}` at position {pos} (known: {})", known_functions()),
            );
        };
        let open = self.advance();
        let mut args = vec![self.sum()?];
        while self.peek().tok == Tok::Comma {
            self.advance();
            args.push(self.sum()?);
        }
        let close = self.peek().clone();
        if close.tok != Tok::Close {
            return self.fail(
                close.pos,
                format!(
                    "expected `)` at position {} to close the `(` of `{name}` at position {}, found {}",
                    close.pos,
                    open.pos,
                    close.tok.describe()
                ),
            );
        }
        self.advance();
        if args.len() != arity {
            let plural = if arity == 1 { "" } else { "s" };
            return self.fail(
                pos,
                format!(
                    "function `{name}` at position {pos} takes {arity} argument{plural}, found {}",
                    args.len()
                ),
            );
        }
        Ok(match func {
            Some(f) => self.graph.call(f, args[0]),
            None => self.graph.pow(args[0], args[1]),
        })
    }

    fn variable(&mut self, name: &str, pos: usize) -> Result<Id, FormulaError> {
        if let Some(k) = self.inputs.iter().position(|n| n == name) {
            return Ok(self.graph.input(u32::try_from(k).expect("fewer than 2^32 inputs")));
        }
        if name == "pi" {
            return Ok(self.graph.constant(std::f64::consts::PI));
        }
        if lookup_function(name).is_some() {
            return self.fail(
                pos,
                format!(
                    "function `{name}` at position {pos} needs its argument in parentheses, e.g. `{name}(x)`"
                ),
            );
        }
        let index = match &mut self.params {
            Params::Discover(names) => match names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    names.push(name.to_string());
                    names.len() - 1
                }
            },
            Params::Fixed { names, used } => match names.iter().position(|n| *n == name) {
                Some(i) => {
                    used[i] = true;
                    i
                }
                None => {
                    let listed = names.join(", ");
                    let message =
                        format!("unknown variable `{name}` at position {pos} (the parameters are {listed})");
                    return self.fail(pos, message);
                }
            },
        };
        let index = u32::try_from(index).expect("fewer than 2^32 parameters");
        Ok(self.graph.param(index))
    }
}
