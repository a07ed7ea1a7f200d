//! The `impl` block under `#[fusegen::handlers]` → a list of [`Handler`]s.
//!
//! An `async fn` named after a FUSE operation is a handler and must have that operation's
//! signature; an `async fn` whose name is a near miss of one is reported with a suggestion;
//! every other method is a helper and left alone. Each problem is recorded in the [`Ctxt`].

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, ReturnType, Type};

use crate::ctxt::Ctxt;
use crate::ops::{self, Op, Returns};
use crate::suggest::suggest;
use crate::types::{normalize, result_ok_type};

/// A method recognised as the handler of `op`.
pub struct Handler {
    pub op: &'static Op,
    /// The method's name, with its span.
    pub ident: syn::Ident,
    /// Whether the trailing `ctx: &RequestContext` was written.
    pub has_ctx: bool,
    /// The span of the written return type (or of the name when there is none).
    pub ret_span: Span,
}

/// Reads the handlers of `item`, recording every problem in `cx`. Returns the handlers that
/// are well-formed and the indices of items to drop when re-emitting (second duplicates).
pub fn from_impl(cx: &Ctxt, item: &ItemImpl) -> (Vec<Handler>, Vec<usize>) {
    let mut handlers: Vec<Handler> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut drop = Vec::new();
    for (index, impl_item) in item.items.iter().enumerate() {
        if let ImplItem::Fn(f) = impl_item {
            check_attrs(cx, &f.attrs);
            let name = f.sig.ident.to_string();
            let Some(op) = ops::find(&name) else {
                if f.sig.asyncness.is_some() {
                    report_unknown(cx, f, &name);
                }
                continue;
            };
            if seen.contains(&op.name) {
                cx.error_spanned_by(
                    &f.sig.ident,
                    format!("duplicate handler `{name}`: an operation has one handler"),
                );
                drop.push(index);
                continue;
            }
            seen.push(op.name);
            if let Some(h) = check_handler(cx, op, f) {
                handlers.push(h);
            }
        }
    }
    (handlers, drop)
}

/// `#[fuse(...)]` options belong on the struct, next to the derive.
pub fn check_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("fuse")) {
        cx.error_spanned_by(
            attr,
            "`#[fuse(...)]` options belong on the struct, next to `#[derive(Filesystem)]`",
        );
    }
}

fn report_unknown(cx: &Ctxt, f: &ImplItemFn, name: &str) {
    let hint = suggest(name, ops::OPS.iter().map(|o| o.name), ops::HINTS);
    if let Some(hint) = hint {
        cx.error_spanned_by(
            &f.sig.ident,
            format!(
                "`{name}` is not a FUSE operation; {hint} (an async helper with this name belongs in a separate `impl` block)"
            ),
        );
    }
}

fn check_handler(cx: &Ctxt, op: &'static Op, f: &ImplItemFn) -> Option<Handler> {
    let sig = &f.sig;
    let name = op.name;
    let expected = ops::signature(op);
    let mut ok = true;
    let mut fail = |tokens: &dyn quote::ToTokens, msg: String| {
        cx.error_spanned_by(tokens, msg);
        ok = false;
    };
    if sig.asyncness.is_none() {
        fail(
            &sig.fn_token,
            format!("handler `{name}` must be an `async fn`: write `{expected}`"),
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        fail(unsafety, format!("handler `{name}` cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        fail(abi, format!("handler `{name}` cannot have an ABI"));
    }
    if let Some(param) = sig.generics.type_params().next() {
        fail(
            param,
            format!("handler `{name}` cannot be generic: write `{expected}`"),
        );
    } else if let Some(param) = sig.generics.const_params().next() {
        fail(
            param,
            format!("handler `{name}` cannot be generic: write `{expected}`"),
        );
    }
    if let Some(variadic) = &sig.variadic {
        fail(variadic, format!("handler `{name}` cannot be variadic"));
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(r))
            if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none() => {}
        Some(FnArg::Receiver(r)) if r.mutability.is_some() && r.reference.is_some() => fail(
            r,
            format!(
                "handler `{name}` must take `&self`, not `&mut self`: handlers run concurrently, \
                 so keep mutable state behind a `Mutex`, `RwLock` or atomics"
            ),
        ),
        Some(FnArg::Receiver(r)) => fail(
            r,
            format!("handler `{name}` must take `&self`: write `{expected}`"),
        ),
        _ => fail(
            &sig.ident,
            format!(
                "handler `{name}` must take `&self` as its first parameter: write `{expected}`"
            ),
        ),
    }
    let params: Vec<&syn::PatType> = inputs
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let n = op.params.len();
    let has_ctx = op.takes_ctx && params.len() == n + 1;
    if params.len() != n && !has_ctx {
        let optional = if op.takes_ctx {
            " (the trailing `ctx` is optional)"
        } else {
            ""
        };
        let got = params.len();
        fail(
            &sig.inputs,
            format!(
                "handler `{name}` takes {n} parameter{} after `&self`, found {got}: write `{expected}`{optional}",
                plural(n)
            ),
        );
    } else {
        for (i, (param, want)) in params.iter().zip(op.params).enumerate() {
            if normalize(&param.ty) != strip_lifetimes(want.ty) {
                fail(
                    &param.ty,
                    format!(
                        "parameter {} of `{name}` ({}) must be `{}`{}: write `{expected}`",
                        i + 1,
                        want.name,
                        want.ty,
                        type_hint(want.ty, &param.ty),
                    ),
                );
            }
        }
        if has_ctx && normalize(&params[n].ty) != "&RequestContext" {
            fail(
                &params[n].ty,
                format!(
                    "the last parameter of `{name}` must be `ctx: &RequestContext`: write `{expected}`"
                ),
            );
        }
    }
    let ret_span = check_return(op, sig, &expected, &mut fail).unwrap_or_else(|| sig.ident.span());
    ok.then(|| Handler {
        op,
        ident: sig.ident.clone(),
        has_ctx,
        ret_span,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn strip_lifetimes(ty: &str) -> String {
    ty.replace("<'_>", "")
}

/// Extra help for the mistakes people actually make.
fn type_hint(want: &str, got: &Type) -> &'static str {
    match (want, normalize(got).as_str()) {
        ("&OsStr", "&str" | "String" | "&String") => {
            " (file names are bytes, not UTF-8; use `name.to_str()` where you need text)"
        }
        ("Inode", "u64") => " (wrap inode numbers in `Inode`; the number is `ino.0`)",
        ("FileHandle", "u64") => " (wrap file handles in `FileHandle`; the number is `fh.0`)",
        _ => "",
    }
}

fn check_return(
    op: &Op,
    sig: &syn::Signature,
    expected: &str,
    fail: &mut dyn FnMut(&dyn quote::ToTokens, String),
) -> Option<Span> {
    let name = op.name;
    match (op.returns, &sig.output) {
        (Returns::Unit, ReturnType::Default) => None,
        (Returns::Unit, ReturnType::Type(_, ty)) => {
            if normalize(ty) != "()" {
                fail(
                    ty,
                    format!("handler `{name}` returns nothing: write `{expected}`"),
                );
            }
            Some(ty.span())
        }
        (Returns::Result { .. }, ReturnType::Default) => {
            fail(
                &sig.ident,
                format!("handler `{name}` must return a `Result`: write `{expected}`"),
            );
            None
        }
        (Returns::Result { ty: want, also, .. }, ReturnType::Type(_, ty)) => {
            match result_ok_type(ty) {
                Some(ok) if ok == want || also.contains(&ok.as_str()) => {}
                Some(ok) => fail(
                    ty,
                    format!(
                        "handler `{name}` must return `Result<{want}>`, not `Result<{ok}>`: write `{expected}`"
                    ),
                ),
                None => fail(
                    ty,
                    format!(
                        "handler `{name}` must return `fusegen::Result<{want}>`: write `{expected}`"
                    ),
                ),
            }
            Some(ty.span())
        }
    }
}
