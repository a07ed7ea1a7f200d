//! The `impl` block under `#[fusegen::handlers]` → a list of [`Handler`]s.
//!
//! An `async fn` named after a FUSE operation is a handler and must have that operation's
//! signature. An `async fn` whose name is a near miss of an operation and whose parameters fit
//! it is reported with a suggestion. Every other method is a helper and left alone. Each
//! problem is recorded in the [`Ctxt`].

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, Meta, ReturnType, Token};

use crate::ctxt::Ctxt;
use crate::ops::{Alternative, Op, Returns};
use crate::paths::Mode;
use crate::suggest::{closest, hint};
use crate::types::{RustcCheck, comparable, normalize, result_err_type, result_ok_type};

/// A method recognised as the handler of `op`.
pub struct Handler {
    pub op: &'static Op,
    /// The method's name, with its span.
    pub ident: syn::Ident,
    /// Whether the trailing `ctx: &RequestContext` was written.
    pub has_ctx: bool,
    /// The span of the written return type (or of the name when there is none).
    pub ret_span: Span,
    /// The `cfg` predicate under which the method exists (from `cfg` and `cfg_attr`), if any.
    pub cfg: Option<TokenStream>,
    /// Parameters whose types rustc compares (aliases, renamed imports).
    pub rustc_checks: Vec<RustcCheck>,
    /// A parameter written with its alternative type (`write` taking `WriteData`): the
    /// handler implements the alternative's `Operations` method.
    pub alternative: Option<&'static Alternative>,
}

/// What [`from_impl`] found in the block.
pub struct Parsed {
    /// The well-formed handlers.
    pub handlers: Vec<Handler>,
    /// Every method named after an operation (first occurrences, or every `cfg`-gated
    /// version), well-formed or not, with its `cfg` predicate.
    pub written: Vec<crate::expand::Written>,
    /// Indices of items to drop when re-emitting the block (second copies of a handler).
    pub duplicates: Vec<usize>,
}

/// Reads the handlers of `item`, recording every problem in `cx`.
pub fn from_impl(cx: &Ctxt, item: &ItemImpl, mode: Mode) -> Parsed {
    let mut parsed = Parsed {
        handlers: Vec::new(),
        written: Vec::new(),
        duplicates: Vec::new(),
    };
    let self_ty = normalize(&item.self_ty);
    for (index, impl_item) in item.items.iter().enumerate() {
        let ImplItem::Fn(f) = impl_item else { continue };
        check_attrs(cx, &f.attrs);
        let name = f.sig.ident.to_string();
        let Some(op) = mode.find(&name) else {
            if !crate::paths::report_inode_only(cx, mode, f)
                && crate::paths::may_be_handler(mode, f)
            {
                report_near_miss(cx, mode, f, &name, &self_ty);
            }
            continue;
        };
        let cfg = cfg_condition(&f.attrs);
        // Versions of one handler under different `cfg`s are alternatives, not duplicates;
        // if two of them are enabled at once, rustc reports the duplicate method itself.
        let seen = parsed
            .written
            .iter()
            .filter(|(seen, ..)| seen.name == op.name)
            .collect::<Vec<_>>();
        if !seen.is_empty() && (cfg.is_none() || seen.iter().any(|(_, _, c)| c.is_none())) {
            cx.error_spanned_by(
                &f.sig.ident,
                format!("duplicate handler `{name}`: an operation has only one handler"),
            );
            parsed.duplicates.push(index);
            continue;
        }
        parsed.written.push((op, f.sig.ident.clone(), cfg.clone()));
        if let Some(h) = check_handler(cx, mode, op, f, cfg) {
            parsed.handlers.push(h);
        }
    }
    parsed
}

/// The predicate under which an item with `attrs` exists: its `cfg`s, and the `cfg`s that its
/// `cfg_attr`s add (`cfg_attr(p, cfg(q))` holds when `not(p)` or `q`). `None` when the item is
/// unconditional. Generated code repeats the predicate so that it follows the user's method.
pub fn cfg_condition(attrs: &[syn::Attribute]) -> Option<TokenStream> {
    let conditions: Vec<TokenStream> = attrs
        .iter()
        .filter_map(|a| meta_condition(&a.meta))
        .collect();
    match conditions.len() {
        0 => None,
        1 => conditions.into_iter().next(),
        _ => Some(quote!(all(#(#conditions),*))),
    }
}

fn meta_condition(meta: &Meta) -> Option<TokenStream> {
    let Meta::List(list) = meta else { return None };
    if list.path.is_ident("cfg") {
        let predicate = &list.tokens;
        return Some(quote!(#predicate));
    }
    if !list.path.is_ident("cfg_attr") {
        return None;
    }
    // A malformed `cfg_attr` is rustc's to report.
    let args = list
        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .ok()?;
    let mut args = args.into_iter();
    let predicate = args.next()?;
    let inner: Vec<TokenStream> = args.filter_map(|m| meta_condition(&m)).collect();
    (!inner.is_empty()).then(|| quote!(any(not(#predicate), all(#(#inner),*))))
}

/// `#[fuse(...)]` options belong on the struct, next to the derive.
pub fn check_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("fuse")) {
        cx.error_spanned_by(
            attr,
            "`#[fuse(...)]` options go on the struct, next to `#[derive(Filesystem)]`",
        );
    }
}

/// Reports an `async fn` that looks like a misnamed handler: its name is a near miss of an
/// operation (or a name known from other libraries) and its parameters fit that operation.
fn report_near_miss(cx: &Ctxt, mode: Mode, f: &ImplItemFn, name: &str, self_ty: &str) {
    let Some((op, suggestion)) = near_miss(mode, name) else {
        return;
    };
    if !fits(op, &f.sig) {
        return;
    }
    cx.error_spanned_by(
        &f.sig.ident,
        format!(
            "`{name}` is not a FUSE operation, {suggestion} (to keep `{name}` as a helper, move it \
             to a separate `impl {self_ty}` block)"
        ),
    );
}

/// The operation `name` probably stands for, with the "did you mean" text: an explicit hint
/// first, else the closest operation name. A name that extends an operation's name
/// (`reader`, `read_all`, `lookups`) is a helper, not a typo.
pub fn near_miss(mode: Mode, name: &str) -> Option<(&'static Op, String)> {
    if let Some(text) = hint(name, &mode.hints()) {
        let op = text
            .split('`')
            .skip(1)
            .step_by(2)
            .find_map(|n| mode.find(n))?;
        return Some((op, format!("did you mean {text}?")));
    }
    let candidates = mode
        .ops()
        .iter()
        .map(|o| o.name)
        .filter(|c| !name.starts_with(c));
    let c = closest(name, candidates)?;
    Some((mode.find(c)?, format!("did you mean `{c}`?")))
}

/// Whether `sig` could be meant as the handler of `op`: a `self` receiver followed by as many
/// parameters as `op` takes (with or without the trailing `ctx`).
pub fn fits(op: &Op, sig: &syn::Signature) -> bool {
    let receiver = matches!(sig.inputs.first(), Some(FnArg::Receiver(_)));
    let n = sig
        .inputs
        .iter()
        .filter(|a| matches!(a, FnArg::Typed(_)))
        .count();
    receiver && (n == op.params.len() || (op.takes_ctx && n == op.params.len() + 1))
}

fn check_handler(
    cx: &Ctxt,
    mode: Mode,
    op: &'static Op,
    f: &ImplItemFn,
    cfg: Option<TokenStream>,
) -> Option<Handler> {
    let sig = &f.sig;
    let name = op.name;
    let expected = mode.signature(op);
    let mut ok = true;
    let mut fail = |tokens: &dyn quote::ToTokens, msg: String| {
        cx.error_spanned_by(tokens, msg);
        ok = false;
    };
    if let Some(msg) = crate::paths::asyncness_problem(mode, op, sig) {
        match &sig.asyncness {
            Some(asyncness) => fail(asyncness, msg),
            None => fail(&sig.fn_token, msg),
        }
    }
    if let Some(unsafety) = &sig.unsafety {
        fail(unsafety, format!("handler `{name}` cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        fail(abi, format!("handler `{name}` cannot have an ABI"));
    }
    if sig.generics.type_params().next().is_some() || sig.generics.const_params().next().is_some() {
        fail(
            &sig.generics,
            format!(
                "handler `{name}` cannot be generic: the runtime calls it with fixed types; write `{expected}`"
            ),
        );
    }
    if let Some(variadic) = &sig.variadic {
        fail(variadic, format!("handler `{name}` cannot be variadic"));
    }
    let mut inputs = sig.inputs.iter().peekable();
    if let Some(FnArg::Receiver(r)) = inputs.peek() {
        if let Some(msg) = receiver_problem(name, r) {
            fail(r, msg);
        }
        inputs.next();
    } else {
        fail(
            &sig.ident,
            format!("handler `{name}` has no `self` parameter: write `{expected}`"),
        );
    }
    let params: Vec<&syn::PatType> = inputs
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let n = op.params.len();
    let has_ctx = op.takes_ctx && params.len() == n + 1;
    let mut rustc_checks = Vec::new();
    let mut alternative = None;
    if let Some(msg) = crate::paths::wrong_mode(mode, op, &params) {
        // A signature of the other mode: one error, not one per parameter.
        fail(&sig.inputs, msg);
        return None;
    }
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
    } else if let Some(fix) = reordered(mode, op, &params, has_ctx) {
        // The right types in the wrong order: one error, not one per misplaced parameter.
        fail(
            &sig.inputs,
            format!("the parameters of `{name}` are out of order: write `{fix}`"),
        );
    } else {
        for (index, (param, want)) in params.iter().zip(op.params).enumerate() {
            let got = normalize(&param.ty);
            // Only inode-level async blocks: the others serve the operation through adapters
            // that hand over bytes.
            let other =
                crate::ops::alternative(name, want.name).filter(|_| mode == Mode::default());
            if let Some(alt) = other.filter(|a| got == strip_lifetimes(a.ty)) {
                alternative = Some(alt);
                continue;
            }
            let accepted = match other {
                Some(alt) => format!("`{}` or `{}`", want.ty, alt.ty),
                None => format!("`{}`", want.ty),
            };
            if got != strip_lifetimes(want.ty) && !comparable(&param.ty) {
                let what = format!("parameter `{}` of `{name}` must be {accepted}", want.name);
                let fix = format!("write `{expected}`");
                let check = RustcCheck::new(index, &param.ty, want.path, (&what, want.ty), &fix);
                rustc_checks.push(check);
            } else if got != strip_lifetimes(want.ty) {
                // The alternative type in a block that cannot take it.
                let elsewhere = crate::ops::alternative(name, want.name)
                    .filter(|a| other.is_none() && got == strip_lifetimes(a.ty))
                    .map(|a| {
                        format!(
                            "only inode-level `async` handlers take `{}` (path-level and \
                             blocking handlers get the data as bytes): write `{expected}`",
                            strip_lifetimes(a.ty)
                        )
                    });
                let why = elsewhere
                    .or_else(|| type_hint(want.name, want.ty, &got))
                    .or_else(|| crate::paths::type_hint(want.name, want.ty, &got))
                    .unwrap_or_else(|| format!("write `{expected}`"));
                fail(
                    &param.ty,
                    format!(
                        "parameter `{}` of `{name}` must be {accepted}, found `{got}`: {why}",
                        want.name
                    ),
                );
            }
        }
        if has_ctx {
            let got = normalize(&params[n].ty);
            if got != "&RequestContext" && !comparable(&params[n].ty) {
                let what = format!("the last parameter of `{name}` must be `ctx: &RequestContext`");
                let fix = format!("write `{expected}`");
                let want = "&::fusegen::RequestContext";
                let check =
                    RustcCheck::new(n, &params[n].ty, want, (&what, "&RequestContext"), &fix);
                rustc_checks.push(check);
            } else if got != "&RequestContext" {
                let why = if got == "RequestContext" {
                    "it is borrowed from the request".to_string()
                } else {
                    format!("write `{expected}`")
                };
                fail(
                    &params[n].ty,
                    format!(
                        "the last parameter of `{name}` must be `ctx: &RequestContext`, found `{got}`: {why}"
                    ),
                );
            }
        }
    }
    let ret_span = check_return(op, sig, &expected, &mut fail).unwrap_or_else(|| sig.ident.span());
    ok.then(|| Handler {
        op,
        ident: sig.ident.clone(),
        has_ctx,
        ret_span,
        cfg,
        rustc_checks,
        alternative,
    })
}

/// The signature with the user's own parameters put in the expected order, when the written
/// types are exactly the expected ones in another order.
fn reordered(mode: Mode, op: &Op, params: &[&syn::PatType], has_ctx: bool) -> Option<String> {
    let mut want: Vec<(String, &str)> = op
        .params
        .iter()
        .map(|p| (strip_lifetimes(p.ty), p.ty))
        .collect();
    if has_ctx {
        want.push(("&RequestContext".to_string(), "&RequestContext"));
    }
    let got: Vec<String> = params.iter().map(|p| normalize(&p.ty)).collect();
    let in_order = got.iter().zip(&want).all(|(g, (w, _))| g == w);
    let (mut a, mut b) = (
        got.clone(),
        want.iter().map(|(w, _)| w.clone()).collect::<Vec<_>>(),
    );
    a.sort();
    b.sort();
    if in_order || a != b {
        return None;
    }
    let mut used = vec![false; params.len()];
    let mut list = vec!["&self".to_string()];
    for (ty, shown) in &want {
        let i = (0..params.len()).find(|&i| !used[i] && got[i] == *ty)?;
        used[i] = true;
        let pat = params[i].pat.to_token_stream().to_string();
        list.push(format!("{pat}: {shown}"));
    }
    let signature = mode.signature(op);
    let ret = signature.rsplit_once(')').map_or("", |(_, r)| r);
    let keyword = if mode.blocking { "fn" } else { "async fn" };
    Some(format!("{keyword} {}({}){ret}", op.name, list.join(", ")))
}

/// What is wrong with a receiver other than `&self`.
fn receiver_problem(name: &str, r: &syn::Receiver) -> Option<String> {
    if r.colon_token.is_some() {
        let ty = normalize(&r.ty);
        return (ty != "&Self").then(|| {
            format!("handler `{name}` must take `&self`, found `self: {ty}`: every request borrows the one filesystem value")
        });
    }
    match (&r.reference, &r.mutability) {
        (Some(_), None) => None,
        (Some(_), Some(_)) => Some(format!(
            "handler `{name}` must take `&self`, not `&mut self`: handlers run concurrently, so keep \
             mutable state behind a `Mutex`, `RwLock` or atomics"
        )),
        (None, _) => Some(format!(
            "handler `{name}` must take `&self`, not `self`: every request borrows the one \
             filesystem value"
        )),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn strip_lifetimes(ty: &str) -> String {
    ty.replace("<'_>", "")
}

/// Why the expected type is what it is, for the mistakes people actually make.
pub fn type_hint(param: &str, want: &str, got: &str) -> Option<String> {
    let hint = match (want, got) {
        ("&OsStr", "&str" | "String" | "&String" | "&Path" | "PathBuf") => format!(
            "file names are bytes and need not be UTF-8; call `{param}.to_str()` where you need text"
        ),
        ("Inode", "u64") => {
            format!("inode numbers are wrapped in `Inode` (the number is `{param}.0`)")
        }
        ("FileHandle", "u64") => {
            format!("file handles are wrapped in `FileHandle` (the number is `{param}.0`)")
        }
        ("Option<FileHandle>", "FileHandle") => {
            "the kernel sends a handle only when it asks through an open file".to_string()
        }
        ("&[u8]", "Vec<u8>" | "&Vec<u8>" | "Bytes") => {
            "the data is borrowed from the request buffer".to_string()
        }
        ("&mut ReaddirReply<'_>", "ReaddirReply" | "&ReaddirReply") => {
            "entries are added to the reply through `&mut`".to_string()
        }
        _ => return None,
    };
    Some(hint)
}

/// Error types people reach for that carry no errno (`?` on them cannot build a reply).
fn carries_no_errno(ty: &str) -> bool {
    matches!(ty, "String" | "&str") || ty.starts_with("Box<dyn")
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
            let got = normalize(ty);
            if got != "()" {
                fail(
                    ty,
                    format!(
                        "handler `{name}` must not return a value, found `{got}`: the kernel expects no reply; write `{expected}`"
                    ),
                );
            }
            Some(ty.span())
        }
        (Returns::Result { ty: want, .. }, ReturnType::Default) => {
            let close = proc_macro2::Ident::new("x", sig.paren_token.span.close());
            fail(
                &close,
                format!("handler `{name}` must return `Result<{want}>`: write `{expected}`"),
            );
            None
        }
        (Returns::Result { ty: want, also, .. }, ReturnType::Type(_, ty)) => {
            let accepted = || {
                let mut list = format!("`Result<{want}>`");
                for a in also {
                    list.push_str(&format!(" or `Result<{a}>`"));
                }
                list
            };
            if let Some(err) = result_err_type(ty).filter(|e| carries_no_errno(&normalize(e))) {
                fail(
                    err,
                    format!(
                        "handler `{name}` returns `{}` errors, but a FUSE reply carries an errno: return `Result<{want}>` (its error is `Errno`) and map failures to one, e.g. `.map_err(|_| Errno::EIO)?`",
                        normalize(err)
                    ),
                );
                return Some(ty.span());
            }
            match result_ok_type(ty) {
                Some(ok) if ok == want || also.contains(&ok.as_str()) => {}
                // An alias (of the success type or of `Result`): the generated conversion
                // (`Into` the table's type) is rustc's comparison.
                _ if !comparable(ty) => {}
                Some(ok) => fail(
                    ty,
                    format!(
                        "handler `{name}` must return {}, found `Result<{ok}>`: write `{expected}`",
                        accepted()
                    ),
                ),
                None => fail(
                    ty,
                    format!(
                        "handler `{name}` must return {}, found `{}`: write `{expected}`",
                        accepted(),
                        normalize(ty)
                    ),
                ),
            }
            Some(ty.span())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(src: &str) -> syn::Signature {
        syn::parse_str::<syn::TraitItemFn>(&format!("{src};"))
            .map(|f| f.sig)
            .unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    fn op(name: &str) -> &'static Op {
        crate::ops::find(name).unwrap_or_else(|| panic!("no operation {name}"))
    }

    #[test]
    fn typos_and_foreign_names_are_near_misses() {
        let name = |n: &str| near_miss(Mode::default(), n).map(|(op, _)| op.name);
        assert_eq!(name("lokup"), Some("lookup"));
        assert_eq!(name("get_attr"), Some("getattr"));
        assert_eq!(name("readdirplus"), Some("readdir"));
        assert_eq!(name("close"), Some("flush"));
    }

    #[test]
    fn extended_names_are_helpers() {
        for name in ["reader", "read_all", "lookups", "refresh"] {
            assert!(near_miss(Mode::default(), name).is_none(), "{name}");
        }
    }

    #[test]
    fn a_near_miss_must_fit_the_operation() {
        let lookup = op("lookup");
        assert!(fits(
            lookup,
            &sig("async fn lokup(&self, p: Inode, n: &OsStr)")
        ));
        assert!(fits(
            lookup,
            &sig("async fn lokup(&self, p: Inode, n: &OsStr, c: &RequestContext)")
        ));
        assert!(!fits(lookup, &sig("async fn lokup(p: Inode, n: &OsStr)")));
        // `lock(&self)` is two edits from nothing and one from `flock`, but takes no arguments.
        assert!(!fits(op("flock"), &sig("async fn lock(&self)")));
    }

    fn cfg_of(attrs: &str) -> Option<String> {
        let f: syn::ImplItemFn =
            syn::parse_str(&format!("{attrs} async fn f(&self) {{}}")).expect("method");
        cfg_condition(&f.attrs).map(|c| c.to_string().replace(' ', ""))
    }

    #[test]
    fn cfg_conditions_follow_cfg_and_cfg_attr() {
        assert_eq!(cfg_of("#[doc = \"x\"] #[allow(unused)]"), None);
        assert_eq!(cfg_of("#[cfg(unix)]").as_deref(), Some("unix"));
        assert_eq!(
            cfg_of("#[cfg(unix)] #[cfg(target_os = \"linux\")]").as_deref(),
            Some("all(unix,target_os=\"linux\")")
        );
        assert_eq!(
            cfg_of("#[cfg_attr(unix, cfg(test))]").as_deref(),
            Some("any(not(unix),all(test))")
        );
        assert_eq!(cfg_of("#[cfg_attr(unix, allow(unused))]"), None);
    }

    fn typed(sig: &syn::Signature) -> Vec<&syn::PatType> {
        sig.inputs
            .iter()
            .filter_map(|a| match a {
                FnArg::Typed(t) => Some(t),
                FnArg::Receiver(_) => None,
            })
            .collect()
    }

    #[test]
    fn reordering_keeps_the_users_names() {
        let s = sig(
            "async fn read(&self, h: FileHandle, i: Inode, at: u64, len: u32) -> Result<Bytes>",
        );
        assert_eq!(
            reordered(Mode::default(), op("read"), &typed(&s), false).as_deref(),
            Some(
                "async fn read(&self, i: Inode, h: FileHandle, at: u64, len: u32) -> Result<Bytes>"
            )
        );
        let s = sig(
            "async fn read(&self, i: Inode, h: FileHandle, at: u64, len: u32) -> Result<Bytes>",
        );
        assert_eq!(
            reordered(Mode::default(), op("read"), &typed(&s), false),
            None
        );
        // Two `u64`s swapped cannot be told apart: not a reordering.
        let s = sig("async fn read(&self, i: Inode, h: u64, at: u64, len: u32) -> Result<Bytes>");
        assert_eq!(
            reordered(Mode::default(), op("read"), &typed(&s), false),
            None
        );
    }

    #[test]
    fn errors_without_an_errno_are_recognised() {
        let ty = |src: &str| normalize(&syn::parse_str(src).expect("type"));
        assert!(carries_no_errno(&ty("String")));
        assert!(carries_no_errno(&ty("&'static str")));
        assert!(carries_no_errno(&ty(
            "Box<dyn std::error::Error + Send + Sync>"
        )));
        assert!(!carries_no_errno(&ty("std::io::Error")));
        assert!(!carries_no_errno(&ty("fusegen::Errno")));
    }

    #[test]
    fn type_hints_name_the_parameter() {
        assert_eq!(
            type_hint("ino", "Inode", "u64").as_deref(),
            Some("inode numbers are wrapped in `Inode` (the number is `ino.0`)")
        );
        assert!(type_hint("name", "&OsStr", "&str").is_some());
        assert!(type_hint("ino", "Inode", "i32").is_none());
    }
}
