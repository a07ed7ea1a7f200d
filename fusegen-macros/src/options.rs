//! `#[fuse(...)]` on the struct → [`Options`]: every value checked against its kind and range
//! and kept with its span. Unknown, mistyped and out-of-range options are recorded in the
//! [`Ctxt`] and parsing goes on, so one compile reports all of them.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Lit, UnOp};

use crate::ctxt::Ctxt;
use crate::option_table::{self, Kind, OptionDef};
use crate::suggest::suggest;

/// A checked option value.
#[derive(Clone, Debug)]
pub enum Value {
    Bool(bool),
    /// Nanoseconds.
    Duration(u64),
    Str(String),
    Int(u64),
    Path(syn::Path),
}

/// One option as written.
pub struct Setting {
    pub def: &'static OptionDef,
    /// Span of the option's name.
    pub span: Span,
    pub value: Value,
}

/// Every option given on the struct.
#[derive(Default)]
pub struct Options {
    pub settings: Vec<Setting>,
}

impl Options {
    /// The setting named `name`, if given.
    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.def.name == name)
    }

    /// Whether flag `name` is given and true.
    pub fn flag(&self, name: &str) -> bool {
        matches!(
            self.get(name),
            Some(Setting {
                value: Value::Bool(true),
                ..
            })
        )
    }

    /// The value of integer option `name`.
    pub fn int(&self, name: &str) -> Option<(u64, Span)> {
        match self.get(name) {
            Some(Setting {
                value: Value::Int(v),
                span,
                ..
            }) => Some((*v, *span)),
            _ => None,
        }
    }

    /// The `crate = "..."` path, if given.
    pub fn krate(&self) -> Option<&syn::Path> {
        match self.get("crate") {
            Some(Setting {
                value: Value::Path(p),
                ..
            }) => Some(p),
            _ => None,
        }
    }

    /// Reads every `#[fuse(...)]` attribute among `attrs`.
    pub fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Options {
        let mut options = Options::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("fuse")) {
            if let Err(e) = options.parse_attr(cx, attr) {
                cx.syn_error(e);
            }
        }
        options
    }

    fn parse_attr(&mut self, cx: &Ctxt, attr: &Attribute) -> syn::Result<()> {
        if !matches!(attr.meta, syn::Meta::List(_)) {
            return Err(syn::Error::new_spanned(
                attr,
                "expected a list of options, as in `#[fuse(read_only, attr_timeout = 60)]`",
            ));
        }
        attr.parse_nested_meta(|meta| {
            let name_span = meta.path.span();
            let name = match meta.path.get_ident() {
                Some(ident) => ident.to_string(),
                None if meta.path.is_ident("crate") => "crate".to_string(),
                None => {
                    cx.error_spanned_by(&meta.path, "expected an option name, not a path");
                    skip_value(&meta)?;
                    return Ok(());
                }
            };
            let value = if meta.input.peek(syn::Token![=]) {
                Some(meta.value()?.parse::<Expr>()?)
            } else {
                None
            };
            if meta.input.peek(syn::token::Paren) {
                return Err(meta.error(format!(
                    "`{name}(...)` is not an option form; write `{name}` or `{name} = value`"
                )));
            }
            let Some(def) = option_table::find(&name) else {
                let hint = suggest(
                    &name,
                    option_table::OPTIONS.iter().map(|o| o.name),
                    option_table::HINTS,
                )
                .unwrap_or_else(|| format!("expected one of {}", valid_names()));
                cx.error_at(
                    name_span,
                    format!("unknown fusegen option `{name}`; {hint}"),
                );
                return Ok(());
            };
            if self.get(def.name).is_some() {
                cx.error_at(
                    name_span,
                    format!("option `{name}` is given more than once"),
                );
                return Ok(());
            }
            match check_value(def, value.as_ref(), name_span) {
                Ok(value) => self.settings.push(Setting {
                    def,
                    span: name_span,
                    value,
                }),
                Err(e) => cx.syn_error(e),
            }
            Ok(())
        })
    }
}

/// Consumes `= value` after a bad name, so parsing can go on with the next option.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    }
    Ok(())
}

fn valid_names() -> String {
    let names: Vec<String> = option_table::OPTIONS
        .iter()
        .map(|o| format!("`{}`", o.name))
        .collect();
    names.join(", ")
}

/// How to write a value of this kind, for messages.
fn expected(def: &OptionDef) -> String {
    let n = def.name;
    match def.kind {
        Kind::Flag => format!("`{n}` takes no value (or `{n} = true` / `{n} = false`)"),
        Kind::Seconds => {
            format!("`{n}` takes a number of seconds, as in `{n} = 60` or `{n} = 0.5`")
        }
        Kind::Str => format!("`{n}` takes a string, as in `{n} = \"name\"`"),
        Kind::Int { min, max } => format!("`{n}` takes an integer from {min} to {max}"),
        Kind::Mode => format!("`{n}` takes permission bits, as in `{n} = 0o022`"),
        Kind::OneOf(choices) => {
            let list: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
            format!("`{n}` takes one of {}", list.join(", "))
        }
        Kind::Path => {
            format!("`{n}` takes a path in a string, as in `{n} = \"::my_crate::fusegen\"`")
        }
    }
}

fn check_value(
    def: &'static OptionDef,
    value: Option<&Expr>,
    name_span: Span,
) -> syn::Result<Value> {
    let err = |tokens: &dyn quote::ToTokens, why: &str| {
        Err(syn::Error::new_spanned(
            tokens,
            format!("{why}: {}", expected(def)),
        ))
    };
    let Some(expr) = value else {
        return match def.kind {
            Kind::Flag => Ok(Value::Bool(true)),
            _ => Err(syn::Error::new(
                name_span,
                format!("missing value: {}", expected(def)),
            )),
        };
    };
    // Negative numbers are a unary minus applied to a literal.
    if let Expr::Unary(ExprUnary {
        op: UnOp::Neg(_),
        expr: inner,
        ..
    }) = expr
        && matches!(**inner, Expr::Lit(_))
    {
        return err(expr, "must not be negative");
    }
    let Expr::Lit(ExprLit { lit, .. }) = expr else {
        return err(expr, "expected a literal");
    };
    match (def.kind, lit) {
        (Kind::Flag, Lit::Bool(b)) => Ok(Value::Bool(b.value)),
        (Kind::Flag, _) => err(lit, "expected `true` or `false`"),
        (Kind::Seconds, Lit::Int(i)) => {
            let secs: u64 = i.base10_parse()?;
            secs.checked_mul(1_000_000_000)
                .map(Value::Duration)
                .ok_or_else(|| {
                    syn::Error::new_spanned(lit, format!("too large: {}", expected(def)))
                })
        }
        (Kind::Seconds, Lit::Float(f)) => {
            let secs: f64 = f.base10_parse()?;
            if !(0.0..=1.0e9).contains(&secs) {
                return err(lit, "out of range");
            }
            Ok(Value::Duration((secs * 1e9).round() as u64))
        }
        (Kind::Seconds, Lit::Str(_)) => err(lit, "expected a number, found a string"),
        (Kind::Seconds, _) => err(lit, "expected a number"),
        (Kind::Str, Lit::Str(s)) => Ok(Value::Str(s.value())),
        (Kind::Str, _) => err(lit, "expected a string"),
        (Kind::Int { min, max }, Lit::Int(i)) => {
            let v: u64 = i.base10_parse().map_err(|_| {
                syn::Error::new_spanned(lit, format!("out of range: {}", expected(def)))
            })?;
            if v < min || v > max {
                return err(lit, &format!("{v} is out of range"));
            }
            Ok(Value::Int(v))
        }
        (Kind::Int { .. }, Lit::Str(_)) => err(lit, "expected an integer, found a string"),
        (Kind::Int { .. }, _) => err(lit, "expected an integer"),
        (Kind::Mode, Lit::Int(i)) => {
            let v: u64 = i.base10_parse()?;
            if v > 0o7777 {
                return err(lit, "more than the permission bits (0o7777)");
            }
            Ok(Value::Int(v))
        }
        (Kind::Mode, _) => err(lit, "expected an integer"),
        (Kind::OneOf(choices), Lit::Str(s)) if choices.contains(&s.value().as_str()) => {
            Ok(Value::Str(s.value()))
        }
        (Kind::OneOf(_), _) => err(lit, "not an accepted value"),
        (Kind::Path, Lit::Str(s)) => s.parse::<syn::Path>().map(Value::Path),
        (Kind::Path, _) => err(lit, "expected a string"),
    }
}
