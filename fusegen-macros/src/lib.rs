//! Macros of fusegen: `#[derive(Filesystem)]` with `#[fuse(...)]` options, and
//! `#[fusegen::handlers]` on an `impl` block of `async fn` handlers. Use them through the
//! `fusegen` crate, which re-exports both.
//!
//! Each entry point parses, validates (collecting every error with its span), then expands.
//! On error it emits the errors plus a fallback, so one mistake gives one error.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod assertions;
mod blocking;
mod ctxt;
mod expand;
mod handlers;
mod ops;
mod options;
mod paths;
mod runtime_items;
mod suggest;
mod types;
mod validate;

use proc_macro::TokenStream;
use quote::quote;
use syn::{DeriveInput, ItemImpl, parse_macro_input};

use ctxt::Ctxt;
use options::Options;
use paths::Mode;

/// Implements `fusegen::Filesystem` for a struct: its `#[fuse(...)]` options become the
/// default `MountOptions` and `Workers`. See `docs/options.md` for every option.
#[proc_macro_derive(Filesystem, attributes(fuse))]
pub fn derive_filesystem(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let cx = Ctxt::new();
    validate::check_derive_input(&cx, &input);
    let options = Options::from_attrs(&cx, &input.attrs);
    validate::check_options(&cx, &options);
    let output = match cx.check() {
        Ok(()) => expand::derive(&input, &options),
        Err(errors) => {
            let fallback = expand::derive_fallback(&input, &expand::krate(options.krate()));
            let errors = errors.to_compile_error();
            quote!(#errors #fallback)
        }
    };
    debug_print("derive(Filesystem)", &output);
    output.into()
}

/// Turns an `impl` block's `async fn`s named after FUSE operations into the
/// `fusegen::Operations` implementation; with `paths`, path-level handlers into
/// `fusegen::paths::PathOperations`; with `blocking`, plain `fn`s into
/// `fusegen::BlockingOperations` (or, with `paths, blocking`, `BlockingPathOperations`), run
/// on tokio's blocking pool. See `docs/handlers.md` for every signature.
#[proc_macro_attribute]
pub fn handlers(args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let (krate, mode) = parse_args(&cx, args);
    let output = match syn::parse::<ItemImpl>(input.clone()) {
        Ok(item) => handlers_on_impl(cx, item, &krate, mode),
        Err(_) => handlers_on_other(cx, input.into(), &krate),
    };
    debug_print("handlers", &output);
    output.into()
}

fn handlers_on_impl(
    cx: Ctxt,
    mut item: ItemImpl,
    krate: &proc_macro2::TokenStream,
    mode: Mode,
) -> proc_macro2::TokenStream {
    validate::check_impl(&cx, &item);
    if item.trait_.is_some() {
        // Not a handlers block: the methods are left to rustc as written. A block written as
        // `impl Operations for Fs` becomes `impl Fs`, so that handlers written the macro's way
        // (without `ctx`, say) do not also fail as trait methods; the fallback below provides
        // `Operations`.
        if is_operations(&item) {
            item.trait_ = None;
        }
        strip_fuse_attrs(&mut item, mode);
        return with_fallback(cx, item, krate, mode, &[], proc_macro2::TokenStream::new());
    }
    let parsed = handlers::from_impl(&cx, &item, mode);
    validate::check_handler_set(&cx, &parsed.written);
    // The user's block is re-emitted: without `#[fuse]` attributes (already reported, and
    // rustc would report them again) and without second copies of a handler.
    strip_fuse_attrs(&mut item, mode);
    for index in parsed.duplicates.into_iter().rev() {
        item.items.remove(index);
    }
    let generated = if mode.paths {
        paths::expand::handlers(&item, &parsed.handlers, &parsed.written, mode, krate)
    } else if mode.blocking {
        blocking::handlers(&item, &parsed.handlers, &parsed.written, krate)
    } else {
        expand::handlers(&item, &parsed.handlers, &parsed.written, krate)
    };
    with_fallback(cx, item, krate, mode, &parsed.written, generated)
}

/// `item` followed by `generated`, or, when `cx` holds errors, by the errors and a default
/// `Operations` implementation.
fn with_fallback(
    cx: Ctxt,
    item: ItemImpl,
    krate: &proc_macro2::TokenStream,
    mode: Mode,
    written: &[expand::Written],
    generated: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    match cx.check() {
        Ok(()) => quote!(#item #generated),
        Err(errors) => {
            let errors = errors.to_compile_error();
            let fallback = if mode.paths {
                paths::expand::fallback(&item, written, mode, krate)
            } else {
                expand::handlers_fallback(&item, written, krate)
            };
            quote!(#errors #item #fallback)
        }
    }
}

fn is_operations(item: &ItemImpl) -> bool {
    item.trait_
        .as_ref()
        .and_then(|(_, path, _)| path.segments.last())
        .is_some_and(|s| s.ident == "Operations")
}

/// The attribute on something other than an `impl` block: one error at the item's keyword,
/// the item unchanged, and for a type the default `Operations` implementation (so that the
/// derive next to it does not also report missing handlers).
fn handlers_on_other(
    cx: Ctxt,
    input: proc_macro2::TokenStream,
    krate: &proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let usage = "write the handlers as `async fn`s in `#[fusegen::handlers] impl MyFs { ... }`";
    let mut fallback = proc_macro2::TokenStream::new();
    let type_fallback = |ident: &syn::Ident, generics: &syn::Generics| {
        if generics.params.is_empty() {
            let ty: syn::Type = syn::parse_quote!(#ident);
            let markers = expand::permissive_markers(&ty, krate);
            quote!(const _: () = { #markers };)
        } else {
            proc_macro2::TokenStream::new()
        }
    };
    let (span, what) = match syn::parse2::<syn::Item>(input.clone()) {
        Ok(syn::Item::Fn(f)) => (f.sig.fn_token.span, "a function"),
        Ok(syn::Item::Struct(s)) => {
            fallback = type_fallback(&s.ident, &s.generics);
            (s.struct_token.span, "a struct")
        }
        Ok(syn::Item::Enum(e)) => {
            fallback = type_fallback(&e.ident, &e.generics);
            (e.enum_token.span, "an enum")
        }
        Ok(syn::Item::Union(u)) => {
            fallback = type_fallback(&u.ident, &u.generics);
            (u.union_token.span, "a union")
        }
        Ok(syn::Item::Trait(t)) => (t.trait_token.span, "a trait"),
        Ok(syn::Item::Mod(m)) => (m.mod_token.span, "a module"),
        _ => (proc_macro2::Span::call_site(), "this item"),
    };
    let is_type = matches!(what, "a struct" | "an enum" | "a union");
    let message = if is_type {
        format!(
            "`#[fusegen::handlers]` goes on an `impl` block, not on {what}: put \
             `#[derive(Filesystem)]` on the type and `#[fusegen::handlers]` on its `impl` block"
        )
    } else {
        format!("`#[fusegen::handlers]` goes on an `impl` block, not on {what}: {usage}")
    };
    cx.error_at(span, message);
    let errors = cx.check().err().map(|e| e.to_compile_error());
    quote!(#errors #input #fallback)
}

/// `#[fusegen::handlers]`, with `paths`, `blocking` and `crate = "path"`; anything
/// else is recorded in `cx` and the default is used.
fn parse_args(cx: &Ctxt, args: TokenStream) -> (proc_macro2::TokenStream, Mode) {
    let mut krate = None;
    let mut mode = Mode::default();
    let mut blocking = false;
    let parser = syn::meta::parser(|meta| {
        let bare = meta.input.is_empty() || meta.input.peek(syn::Token![,]);
        if bare && meta.path.is_ident("paths") {
            mode.paths = true;
            return Ok(());
        }
        if bare && meta.path.is_ident("blocking") {
            blocking = true;
            return Ok(());
        }
        if meta.path.is_ident("crate") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            match lit.parse::<syn::Path>() {
                Ok(path) => krate = Some(path),
                Err(_) => cx.error_spanned_by(
                    &lit,
                    format!(
                        "expected a path to the fusegen crate, such as `::fusegen` or \
                         `crate::reexport::fusegen`, found \"{}\"",
                        lit.value()
                    ),
                ),
            }
            return Ok(());
        }
        let name = meta
            .path
            .get_ident()
            .map_or_else(|| "path".to_string(), ToString::to_string);
        let message = if fusegen_options::find(&name).is_some() {
            format!(
                "`{name}` is a filesystem option: put it in `#[fuse({name})]` on the struct, next to \
                 `#[derive(Filesystem)]`"
            )
        } else {
            let meant = suggest::closest(&name, ["paths", "blocking", "crate"]);
            // Checked as meant, so that the handlers add no second error for this one.
            match meant {
                Some("paths") => mode.paths = true,
                Some("blocking") => blocking = true,
                _ => {}
            }
            let suggestion = meant.map_or_else(String::new, |m| format!("did you mean `{m}`? "));
            format!(
                "unknown argument `{name}`: {suggestion}`#[fusegen::handlers]` takes `paths` \
                 (path-level handlers), `blocking` (plain `fn` handlers run on tokio's blocking \
                 pool) and `crate = \"path\"`"
            )
        };
        cx.error_spanned_by(&meta.path, message);
        if meta.input.peek(syn::Token![=]) {
            meta.value()?.parse::<syn::Expr>()?;
        } else if meta.input.peek(syn::token::Paren) {
            let _content;
            syn::parenthesized!(_content in meta.input);
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse(parser, args) {
        cx.syn_error(e);
    }
    mode.blocking = blocking;
    (expand::krate(krate.as_ref()), mode)
}

fn strip_fuse_attrs(item: &mut ItemImpl, mode: Mode) {
    item.attrs.retain(|a| !a.path().is_ident("fuse"));
    for impl_item in &mut item.items {
        if let syn::ImplItem::Fn(f) = impl_item {
            f.attrs.retain(|a| !a.path().is_ident("fuse"));
            // The kernel dictates these signatures; clippy's argument-count lint cannot apply.
            let params = mode
                .find(&f.sig.ident.to_string())
                .map(|op| op.params.len());
            if params.is_some_and(|n| n >= 6) {
                f.attrs
                    .push(syn::parse_quote!(#[allow(clippy::too_many_arguments)]));
            }
        }
    }
}

/// The methods of `fusegen::Operations`, from the operation table; only `fusegen` calls it,
/// with its own path (`crate`) as input. See `runtime_items.rs`.
#[doc(hidden)]
#[proc_macro]
pub fn __operation_methods(krate: TokenStream) -> TokenStream {
    runtime_items::operation_methods(&krate.into()).into()
}

/// The `bitflags!` definition of `fusegen::Handlers`, one bit per row of the operation table;
/// only `fusegen` calls it. See `runtime_items.rs`.
#[doc(hidden)]
#[proc_macro]
pub fn __handler_bits(header: TokenStream) -> TokenStream {
    runtime_items::handler_bits(header.into()).into()
}

/// The per-operation associated types of `fusegen::__private::AllHandlersInOneImplBlock`; only `fusegen`
/// calls it. See `runtime_items.rs`.
#[doc(hidden)]
#[proc_macro]
pub fn __handler_set_types(_: TokenStream) -> TokenStream {
    runtime_items::handler_set_types().into()
}

/// The methods of `fusegen::__private::AllHandlersInOneImplBlock`, one per row of the
/// operation table; only `fusegen` calls it. See `runtime_items.rs`.
#[doc(hidden)]
#[proc_macro]
pub fn __handlers_block_methods(krate: TokenStream) -> TokenStream {
    runtime_items::handlers_block_methods(&krate.into()).into()
}

/// The methods of the blanket `Operations` implementation over
/// `fusegen::__private::AllHandlersInOneImplBlock`; only `fusegen` calls it. See
/// `runtime_items.rs`.
#[doc(hidden)]
#[proc_macro]
pub fn __forward_operation_methods(krate: TokenStream) -> TokenStream {
    runtime_items::forward_operation_methods(&krate.into()).into()
}

/// The methods of `fusegen::BlockingOperations`, one per row of the operation table; only
/// `fusegen` calls it. See `runtime_items.rs`.
#[doc(hidden)]
#[proc_macro]
pub fn __blocking_operation_methods(krate: TokenStream) -> TokenStream {
    runtime_items::blocking_operation_methods(&krate.into()).into()
}

/// The methods of `impl Operations for fusegen::Blocking<T>`; only `fusegen` calls it. See
/// `runtime_items.rs`.
#[doc(hidden)]
#[proc_macro]
pub fn __blocking_bridge_methods(krate: TokenStream) -> TokenStream {
    runtime_items::blocking_bridge_methods(&krate.into()).into()
}

/// With `FUSEGEN_MACROS_DEBUG` set, prints each expansion to stderr.
fn debug_print(what: &str, output: &proc_macro2::TokenStream) {
    if std::env::var_os("FUSEGEN_MACROS_DEBUG").is_some() {
        eprintln!("fusegen-macros {what} expansion:\n{output}");
    }
}
