//! Macros of fusegen: `#[derive(Filesystem)]` with `#[fuse(...)]` options, and
//! `#[fusegen::handlers]` on an `impl` block of `async fn` handlers. Use them through the
//! `fusegen` crate, which re-exports both.
//!
//! Each entry point parses, validates (collecting every error with its span), then expands.
//! On error it emits the errors plus a fallback, so one mistake gives one error.
#![forbid(unsafe_code)]

mod ctxt;
mod expand;
mod handlers;
mod ops;
mod option_table;
mod options;
mod suggest;
mod types;
mod validate;

use proc_macro::TokenStream;
use quote::quote;
use syn::{DeriveInput, ItemImpl, parse_macro_input};

use ctxt::Ctxt;
use options::Options;

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
/// `fusegen::Operations` implementation. See `docs/handlers.md` for every signature.
#[proc_macro_attribute]
pub fn handlers(args: TokenStream, input: TokenStream) -> TokenStream {
    let krate = match parse_args(args) {
        Ok(krate) => krate,
        Err(e) => return with_input(e.to_compile_error(), input),
    };
    let mut item = match syn::parse::<ItemImpl>(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let e = syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[fusegen::handlers]` goes on an `impl` block of async handler methods, as in \
                 `#[fusegen::handlers] impl MyFs { async fn getattr(...) ... }`",
            );
            return with_input(e.to_compile_error(), input);
        }
    };
    let cx = Ctxt::new();
    validate::check_impl(&cx, &item);
    let (found, duplicates) = handlers::from_impl(&cx, &item);
    validate::check_handler_set(&cx, &found);
    // The user's block is re-emitted: without `#[fuse]` attributes (already reported, and
    // rustc would report them again) and without second copies of a handler.
    strip_fuse_attrs(&mut item);
    for index in duplicates.into_iter().rev() {
        item.items.remove(index);
    }
    let output = match cx.check() {
        Ok(()) => {
            let generated = expand::handlers(&item, &found, &krate);
            quote!(#item #generated)
        }
        Err(errors) => {
            let errors = errors.to_compile_error();
            let fallback = expand::handlers_fallback(&item, &krate);
            quote!(#errors #item #fallback)
        }
    };
    debug_print("handlers", &output);
    output.into()
}

/// `#[fusegen::handlers]` or `#[fusegen::handlers(crate = "path")]`.
fn parse_args(args: TokenStream) -> syn::Result<proc_macro2::TokenStream> {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            krate = Some(lit.parse::<syn::Path>()?);
            Ok(())
        } else {
            Err(meta.error(
                "`#[fusegen::handlers]` takes no options except `crate = \"path\"`; filesystem options go in `#[fuse(...)]` on the struct",
            ))
        }
    });
    syn::parse::Parser::parse(parser, args)?;
    Ok(expand::krate(krate.as_ref()))
}

fn with_input(errors: proc_macro2::TokenStream, input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    quote!(#errors #input).into()
}

fn strip_fuse_attrs(item: &mut ItemImpl) {
    item.attrs.retain(|a| !a.path().is_ident("fuse"));
    for impl_item in &mut item.items {
        if let syn::ImplItem::Fn(f) = impl_item {
            f.attrs.retain(|a| !a.path().is_ident("fuse"));
        }
    }
}

/// With `FUSEGEN_MACROS_DEBUG` set, prints each expansion to stderr.
fn debug_print(what: &str, output: &proc_macro2::TokenStream) {
    if std::env::var_os("FUSEGEN_MACROS_DEBUG").is_some() {
        eprintln!("fusegen-macros {what} expansion:\n{output}");
    }
}
