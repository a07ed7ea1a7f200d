//! `#[fuse(...)]` on the struct → [`Options`]: every value checked against its kind and range
//! and kept with its span. Unknown, mistyped and out-of-range options are recorded in the
//! [`Ctxt`] and parsing goes on with the next option, so one compile reports all of them.

use fusegen_options::rules::Lookup;
use fusegen_options::suggest;
use fusegen_options::{Kind, Opt, OptionDef, Side, Value, values};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Lit, UnOp};

use crate::ctxt::Ctxt;
use crate::suggest::{closest, one_of};

/// One option as written.
pub struct Setting {
    pub def: &'static OptionDef,
    /// Span of the option's name.
    pub span: Span,
    /// Span of the value (of the name for a flag written alone).
    pub value_span: Span,
    pub value: Value,
}

/// Every option given on the struct.
#[derive(Default)]
pub struct Options {
    pub settings: Vec<Setting>,
    /// The `crate = "..."` path, if given.
    krate: Option<syn::Path>,
}

impl Lookup for Options {
    fn value(&self, opt: Opt) -> Option<Value> {
        self.get(opt).map(|s| s.value.clone())
    }
}

impl Options {
    /// The setting of `opt`, if given.
    pub fn get(&self, opt: Opt) -> Option<&Setting> {
        self.settings.iter().find(|s| s.def.id == opt)
    }

    /// Whether flag `opt` is given and true.
    pub fn flag(&self, opt: Opt) -> bool {
        matches!(
            self.get(opt),
            Some(Setting {
                value: Value::Bool(true),
                ..
            })
        )
    }

    /// The `crate = "..."` path, if given.
    pub fn krate(&self) -> Option<&syn::Path> {
        self.krate.as_ref()
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
        match &attr.meta {
            syn::Meta::List(_) => {}
            syn::Meta::Path(_) => {
                return Err(syn::Error::new_spanned(
                    attr,
                    "`#[fuse]` needs a list of options, as in `#[fuse(read_only, attr_timeout = 60)]`",
                ));
            }
            syn::Meta::NameValue(_) => {
                return Err(syn::Error::new_spanned(
                    attr,
                    "expected `#[fuse(...)]`, found `#[fuse = ...]`: options go in a list, as in \
                     `#[fuse(read_only, attr_timeout = 60)]`",
                ));
            }
        }
        attr.parse_nested_meta(|meta| {
            let name_span = meta.path.span();
            let Some(ident) = meta.path.get_ident() else {
                cx.error_spanned_by(
                    &meta.path,
                    "expected an option name, found a path: write `#[fuse(read_only)]`, not \
                     `#[fuse(some::read_only)]`",
                );
                skip_value(&meta)?;
                return Ok(());
            };
            let name = ident.to_string();
            if meta.input.peek(syn::token::Paren) {
                let content;
                let parens = syn::parenthesized!(content in meta.input);
                let inner: proc_macro2::TokenStream = content.parse()?;
                let fix = if inner.is_empty() {
                    format!("`{name}`")
                } else {
                    format!("`{name} = {inner}`")
                };
                cx.error_between(
                    name_span,
                    parens.span.close(),
                    format!(
                        "fuse options are written `name = value`, not `name(value)`: write {fix}"
                    ),
                );
                return Ok(());
            }
            let value = if meta.input.peek(syn::Token![=]) {
                Some(meta.value()?.parse::<Expr>()?)
            } else {
                None
            };
            let Some(def) = fusegen_options::find(&name) else {
                cx.error_at(name_span, unknown_option(&name));
                return Ok(());
            };
            if self.get(def.id).is_some() {
                cx.error_at(name_span, format!("duplicate fuse option `{name}`"));
                return Ok(());
            }
            let checked = check_value(def, value.as_ref(), name_span).and_then(|v| {
                let at = value.as_ref().map_or(name_span, Spanned::span);
                values::check(def, &v)
                    .map(|()| v)
                    .map_err(|reason| syn::Error::new(at, format!("`{}` {reason}", def.name)))
            });
            if let (
                Ok(_),
                Some(Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                })),
            ) = (&checked, &value)
                && def.kind == Kind::Path
            {
                self.krate = s.parse::<syn::Path>().ok();
            }
            match checked {
                Ok(v) => self.settings.push(Setting {
                    def,
                    span: name_span,
                    value_span: value.as_ref().map_or(name_span, |e| e.span()),
                    value: v,
                }),
                Err(e) => cx.syn_error(e),
            }
            Ok(())
        })
    }
}

fn unknown_option(name: &str) -> String {
    let prefix = format!("unknown fuse option `{name}`");
    match suggest::option(name, Side::Attribute) {
        Some(s) => s.after(&prefix),
        None => format!(
            "{prefix}, expected one of {}",
            one_of(suggest::names(Side::Attribute))
        ),
    }
}

/// Consumes `= value` after a bad name, so parsing can go on with the next option.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    }
    Ok(())
}

/// An example of the option written correctly, for messages.
fn example(def: &OptionDef) -> String {
    let n = def.name;
    match def.kind {
        Kind::Flag => format!("`{n}`"),
        Kind::Seconds => format!("`{n} = 60`"),
        Kind::Str => format!("`{n} = \"name\"`"),
        Kind::Int { min, .. } => format!("`{n} = {min}`"),
        Kind::Mode => format!("`{n} = 0o022`"),
        Kind::OneOf { choices, .. } => {
            format!("`{n} = \"{}\"`", choices.first().map_or("", |c| c.name))
        }
        Kind::Path => format!("`{n} = \"::my_crate::fusegen\"`"),
    }
}

/// What a literal is, for "expected X, found Y".
fn describe(lit: &Lit) -> &'static str {
    match lit {
        Lit::Str(_) => "a string",
        Lit::ByteStr(_) | Lit::CStr(_) => "a byte string",
        Lit::Byte(_) => "a byte",
        Lit::Char(_) => "a character",
        Lit::Int(_) => "an integer",
        Lit::Float(_) => "a float",
        Lit::Bool(_) => "a boolean",
        _ => "a literal",
    }
}

/// The literal as written, for messages.
fn source(lit: &Lit) -> String {
    quote::ToTokens::to_token_stream(lit).to_string()
}

fn check_value(
    def: &'static OptionDef,
    value: Option<&Expr>,
    name_span: Span,
) -> syn::Result<Value> {
    let n = def.name;
    let fail =
        |tokens: &dyn quote::ToTokens, msg: String| Err(syn::Error::new_spanned(tokens, msg));
    let Some(expr) = value else {
        return match def.kind {
            Kind::Flag => Ok(Value::Bool(true)),
            _ => Err(syn::Error::new(
                name_span,
                format!("fuse option `{n}` needs a value, as in {}", example(def)),
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
        let what = match def.kind {
            Kind::Seconds => "a number of seconds, as in",
            Kind::Int { .. } | Kind::Mode => "an unsigned integer, as in",
            _ => "a value such as",
        };
        return fail(
            expr,
            format!("`{n}` cannot be negative: it takes {what} {}", example(def)),
        );
    }
    let Expr::Lit(ExprLit { lit, .. }) = expr else {
        return fail(
            expr,
            format!(
                "`{n}` takes a literal value, not an expression or constant, as in {}",
                example(def)
            ),
        );
    };
    let found = describe(lit);
    match (def.kind, lit) {
        (Kind::Flag, Lit::Bool(b)) => Ok(Value::Bool(b.value)),
        (Kind::Flag, _) => fail(
            lit,
            format!(
                "expected `true` or `false`, found `{}`: `{n}` is a flag, so write `{n}` to turn it on \
                 (or `{n} = false`)",
                source(lit)
            ),
        ),
        (Kind::Seconds, Lit::Int(i)) => {
            let secs: u64 = i.base10_parse()?;
            secs.checked_mul(1_000_000_000)
                .map(Value::Nanos)
                .ok_or_else(|| syn::Error::new_spanned(lit, format!("`{n} = {secs}` is too large")))
        }
        (Kind::Seconds, Lit::Float(f)) => {
            let secs: f64 = f.base10_parse()?;
            if !(0.0..=1.0e9).contains(&secs) {
                return fail(lit, format!("`{n} = {secs}` is too large"));
            }
            Ok(Value::Nanos((secs * 1e9).round() as u64))
        }
        (Kind::Seconds, Lit::Str(s)) if s.value().trim().parse::<f64>().is_ok() => fail(
            lit,
            format!(
                "expected a number of seconds, found a string: write `{n} = {}`, without quotes",
                s.value().trim()
            ),
        ),
        (Kind::Seconds, _) => fail(
            lit,
            format!("expected a number of seconds, found {found}: write {}", example(def)),
        ),
        (Kind::Str, Lit::Str(s)) => Ok(Value::Str(s.value())),
        (Kind::Str, Lit::Int(_) | Lit::Float(_) | Lit::Bool(_) | Lit::Char(_)) => fail(
            lit,
            format!(
                "expected a string, found {found}: write `{n} = \"{}\"`",
                source(lit).trim_matches('\'')
            ),
        ),
        (Kind::Str, _) => fail(lit, format!("expected a string, found {found}: write {}", example(def))),
        // The range is checked with the table's words by the caller.
        (Kind::Int { min, max }, Lit::Int(i)) => i.base10_parse::<u64>().map(Value::Int).or_else(|_| fail(
            lit,
            format!("`{n}` must be from {min} to {max}, found {}", i.base10_digits()),
        )),
        (Kind::Int { .. }, Lit::Str(s)) if s.value().trim().parse::<u64>().is_ok() => fail(
            lit,
            format!(
                "expected an integer, found a string: write `{n} = {}`, without quotes",
                s.value().trim()
            ),
        ),
        (Kind::Int { min, max }, _) => fail(
            lit,
            format!("expected an integer from {min} to {max}, found {found}"),
        ),
        // `022` is decimal in Rust but octal in `-o umask=022` and in C: refuse the ambiguity.
        (Kind::Mode, Lit::Int(i)) if zero_prefixed_digits(i).is_some() => {
            let digits = zero_prefixed_digits(i).unwrap_or_default();
            let fix = if digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                format!("write `{n} = 0o{digits}`")
            } else {
                format!("write the mask in octal, such as `{n} = 0o022`")
            };
            fail(
                lit,
                format!(
                    "`{n} = {digits}` would be decimal {} in Rust, not octal as in `-o {n}={digits}`: {fix}",
                    i.base10_digits().trim_start_matches('0').parse::<u64>().unwrap_or(0),
                ),
            )
        }
        (Kind::Mode, Lit::Int(i)) => i.base10_parse::<u64>().map(Value::Int).or_else(|_| fail(
            lit,
            format!(
                "`{n} = {}` sets more than the permission bits: the largest mask is 0o7777",
                source(lit)
            ),
        )),
        (Kind::Mode, Lit::Str(s)) if u32::from_str_radix(s.value().trim(), 8).is_ok() => fail(
            lit,
            format!(
                "expected permission bits, found a string: write `{n} = 0o{}`, an octal integer",
                s.value().trim()
            ),
        ),
        (Kind::Mode, _) => fail(
            lit,
            format!("expected permission bits, found {found}: write {}", example(def)),
        ),
        (Kind::OneOf { choices, .. }, Lit::Str(s)) => {
            let v = s.value();
            if let Some(choice) = choices.iter().find(|c| c.name == v) {
                return Ok(Value::Choice(choice));
            }
            let list = choices.iter().map(|c| format!("\"{}\"", c.name)).collect::<Vec<_>>().join(", ");
            match closest(&v, choices.iter().map(|c| c.name)) {
                Some(c) => fail(lit, format!("unknown `{n}` \"{v}\", did you mean \"{c}\"?")),
                None => fail(lit, format!("unknown `{n}` \"{v}\", expected one of {list}")),
            }
        }
        (Kind::OneOf { .. }, _) => fail(lit, format!("expected a string, found {found}: write {}", example(def))),
        (Kind::Path, Lit::Str(s)) => s.parse::<syn::Path>().map(|_| Value::Str(s.value())).map_err(|_| {
            syn::Error::new_spanned(
                lit,
                format!(
                    "expected a path to the fusegen crate, such as `::fusegen` or `crate::reexport::fusegen`, found \"{}\"",
                    s.value()
                ),
            )
        }),
        (Kind::Path, _) => fail(
            lit,
            format!("expected the path in a string, found {found}: write {}", example(def)),
        ),
    }
}

/// The digits of an integer literal written with a leading zero and no radix prefix (`022`,
/// but not `0o022` or `0`).
fn zero_prefixed_digits(i: &syn::LitInt) -> Option<String> {
    let text = i.to_string();
    let digits = text[..text.len() - i.suffix().len()].replace('_', "");
    (digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

impl Setting {
    /// The value as its field's Rust expression: the kind says how it is written, the target
    /// whether the field is an `Option` (every `Workers` field is plain).
    pub fn tokens(&self, krate: &TokenStream) -> TokenStream {
        let plain = match &self.value {
            Value::Bool(b) => quote!(#b),
            Value::Nanos(nanos) => quote!(::core::time::Duration::from_nanos(#nanos)),
            Value::Int(v) => {
                let lit = proc_macro2::Literal::u64_unsuffixed(*v);
                quote!(#lit)
            }
            Value::Str(s) => quote!(::std::string::String::from(#s)),
            Value::Choice(choice) => match self.def.kind {
                Kind::OneOf { ty, .. } => {
                    let (ty, variant) =
                        (format_ident!("{}", ty), format_ident!("{}", choice.variant));
                    quote!(#krate::#ty::#variant)
                }
                // `check_value` reads a choice only for a one-of option.
                _ => quote!(::core::compile_error!(
                    "fusegen-macros bug: a choice of an option without choices"
                )),
            },
        };
        match self.def.target {
            fusegen_options::Target::OptionalField(_) => {
                quote!(::core::option::Option::Some(#plain))
            }
            _ => plain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(attr: &str) -> Result<Vec<(String, Value)>, Vec<String>> {
        let item: syn::DeriveInput = syn::parse_str(&format!("{attr} struct Fs;")).unwrap();
        let cx = Ctxt::new();
        let options = Options::from_attrs(&cx, &item.attrs);
        match cx.check() {
            Ok(()) => Ok(options
                .settings
                .into_iter()
                .map(|s| (s.def.name.to_string(), s.value))
                .collect()),
            Err(e) => Err(e.into_iter().map(|e| e.to_string()).collect()),
        }
    }

    fn errors(attr: &str) -> Vec<String> {
        parse(attr).err().unwrap_or_default()
    }

    #[test]
    fn values_are_read() {
        let got = parse("#[fuse(read_only, attr_timeout = 0.5, fsname = \"x\", umask = 0o022)]")
            .unwrap_or_default();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["read_only", "attr_timeout", "fsname", "umask"]);
        assert!(matches!(got[0].1, Value::Bool(true)));
        assert!(matches!(got[1].1, Value::Nanos(500_000_000)));
        assert!(matches!(got[3].1, Value::Int(0o022)));
    }

    #[test]
    fn every_mistake_is_reported() {
        let e = errors("#[fuse(read_onyl, attr_timeout = \"60\", max_write = 100)]");
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(
            e[0],
            "unknown fuse option `read_onyl`, did you mean `read_only`?"
        );
        assert_eq!(
            e[1],
            "expected a number of seconds, found a string: write `attr_timeout = 60`, without quotes"
        );
        assert_eq!(e[2], "`max_write` must be from 4096 to 16777216, found 100");
    }

    #[test]
    fn parentheses_do_not_stop_parsing() {
        let e = errors("#[fuse(read_only(true), foo)]");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].ends_with("write `read_only = true`"), "{}", e[0]);
    }

    #[test]
    fn values_of_the_wrong_kind_say_how_to_write_them() {
        assert_eq!(
            errors("#[fuse(fsname = 5)]"),
            ["expected a string, found an integer: write `fsname = \"5\"`"]
        );
        assert_eq!(
            errors("#[fuse(umask = 022)]"),
            [
                "`umask = 022` would be decimal 22 in Rust, not octal as in `-o umask=022`: write `umask = 0o022`"
            ]
        );
        assert_eq!(
            errors("#[fuse(umask = 0_77u32)]"),
            [
                "`umask = 077` would be decimal 77 in Rust, not octal as in `-o umask=077`: write `umask = 0o077`"
            ]
        );
        assert!(errors("#[fuse(umask = 0o022, uid = 0)]").is_empty());
        assert!(errors("#[fuse(umask = 0)]").is_empty());
        assert_eq!(
            errors("#[fuse(umask = \"022\")]"),
            ["expected permission bits, found a string: write `umask = 0o022`, an octal integer"]
        );
        assert_eq!(
            errors("#[fuse(mount_method = \"drect\")]"),
            ["unknown `mount_method` \"drect\", did you mean \"direct\"?"]
        );
    }

    #[test]
    fn rw_explains_that_no_option_is_needed() {
        assert_eq!(
            errors("#[fuse(rw)]"),
            [
                "unknown fuse option `rw`: no option is needed, mounts are read-write unless `read_only` is set"
            ]
        );
    }
}
