//! Code generation. Only `quote!`: every user error was reported before this runs.
//!
//! Generated code uses absolute paths (`::fusegen::…` or the `crate = "…"` path, `::core::…`),
//! sits inside `const _: () = { … };` so it adds no names to the user's scope, and contains no
//! `unsafe`.

use fusegen_options::{Demand, HANDLER_RULES, Opt, Target};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{DeriveInput, ItemImpl};

use crate::handlers::Handler;
use crate::ops::Returns;
use crate::ops::{self, Op};
use crate::options::Options;

/// The path to the runtime crate.
pub fn krate(custom: Option<&syn::Path>) -> TokenStream {
    match custom {
        Some(path) => quote!(#path),
        None => quote!(::fusegen),
    }
}

/// A type from the operation table, with `::fusegen` replaced by the crate path.
pub(crate) fn table_type(path: &str, krate: &TokenStream) -> TokenStream {
    let replaced = path.replace("::fusegen", &krate.to_string());
    match syn::parse_str::<syn::Type>(&replaced) {
        Ok(ty) => quote!(#ty),
        // The table is ours; a type that does not parse is a bug caught by the UI tests.
        Err(e) => e.to_compile_error(),
    }
}

const ALLOWS: &str = "non_upper_case_globals, unused_qualifications, clippy::all, clippy::pedantic";

pub(crate) fn allows() -> TokenStream {
    let list: TokenStream = ALLOWS.parse().unwrap_or_default();
    quote!(#[allow(#list)])
}

/// `impl Filesystem` from the struct's options.
pub fn derive(input: &DeriveInput, options: &Options) -> TokenStream {
    let krate = krate(options.krate());
    let ident = &input.ident;
    let mut mount = Vec::new();
    let mut workers = Vec::new();
    for s in &options.settings {
        let value = s.tokens(&krate);
        match s.def.target {
            Target::Field(field) | Target::OptionalField(field) => {
                let field = format_ident!("{}", field);
                mount.push(quote!(options.#field = #value;));
            }
            Target::Workers(field) => {
                let field = format_ident!("{}", field);
                workers.push(quote!(workers.#field = #value;));
            }
            Target::Macro => {}
        }
    }
    let checks = handler_checks(ident, options, &krate);
    let thread_safety = crate::assertions::field_thread_safety(input, &krate);
    let guard = crate::assertions::thread_safe_guard(&quote!(#ident), &krate);
    let allows = allows();
    // Plain `quote!`: the locals below and the statements in `mount`/`workers` must share one
    // hygiene context, which a user span (e.g. from inside a `macro_rules!`) would break.
    quote! {
        #allows
        const _: () = {
            #[automatically_derived]
            impl #krate::Filesystem for #ident #guard {
                fn mount_options() -> #krate::MountOptions {
                    #[allow(unused_mut)]
                    let mut options = <#krate::MountOptions as ::core::default::Default>::default();
                    #(#mount)*
                    options
                }
                fn workers() -> #krate::Workers {
                    #[allow(unused_mut)]
                    let mut workers = <#krate::Workers as ::core::default::Default>::default();
                    #(#workers)*
                    workers
                }
            }
        };
        #checks
        #allows
        const _: () = { #thread_safety };
    }
}

/// The option↔handler rules for the options that are on, each as a trait bound on the type
/// that holds only if the handlers macro implemented the matching markers. Spanned on the
/// option, so a broken rule is one plain error there; every broken rule is reported.
fn handler_checks(ident: &syn::Ident, options: &Options, krate: &TokenStream) -> TokenStream {
    let mut checks = TokenStream::new();
    for rule in HANDLER_RULES {
        let Some(setting) = options.get(rule.option).filter(|s| s.value.is_on()) else {
            continue;
        };
        if rule.unless.is_some_and(|waiver| options.flag(waiver)) {
            continue;
        }
        let span = setting.span;
        let option = setting.def.name;
        // The derive cannot see the handlers block, so the texts hold in every mode: no
        // `async` (blocking blocks have none), no mode arguments, and the path-level handler
        // named where it differs (`lookup` is answered by `getattr` there).
        let (message, label, bounds) = match rule.demand {
            Demand::Needs(names) => {
                let list = english_list(names);
                let message = if names.len() == 1 {
                    let vowel = list[1..].starts_with(['a', 'e', 'i', 'o', 'u']);
                    let article = if vowel { "an" } else { "a" };
                    format!("`#[fuse({option})]` needs {article} {list} handler")
                } else {
                    format!("`#[fuse({option})]` needs {list} handlers")
                };
                let aliases = path_level_names(names);
                let message = message + &aliases;
                let label = if !aliases.is_empty() {
                    // The handler to write depends on the block's mode, which the message names.
                    format!("add it to the `#[fusegen::handlers]` block of `{ident}`")
                } else if names.len() == 1 {
                    format!(
                        "add `{}` to the `#[fusegen::handlers]` block of `{ident}`",
                        names[0]
                    )
                } else {
                    format!("add the missing ones to the `#[fusegen::handlers]` block of `{ident}`")
                };
                let bounds = names.iter().map(|n| {
                    let name = camel_ident(n);
                    quote!(#name = #krate::__private::Yes)
                });
                (message, label, quote!(#(#bounds),*))
            }
            Demand::Excludes(name) => {
                let message = format!(
                    "`#[fuse({option})]` means `{name}` is never called, but `{ident}` has a `{name}` handler"
                );
                let label = format!("remove this option or the `{name}` handler");
                let name = camel_ident(name);
                (message, label, quote!(#name = #krate::__private::No))
            }
        };
        let note = rule.why;
        // Named in rustc's `help:` line ("the trait `WritebackCacheHandlers` is not
        // implemented for `Fs`").
        let tr = format_ident!("{}Handlers", camel_ident(option), span = span);
        // The type's name respanned too: the error underlines the option alone.
        let ty = syn::Ident::new(&ident.to_string(), span);
        let bound = quote_spanned!(span=> #ty: #tr);
        checks.extend(quote! {
            const _: () = {
                #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                trait #tr {}
                // Hidden from the error, which then shows the message above instead of the
                // marker traits it is made of.
                #[diagnostic::do_not_recommend]
                impl<T: ?::core::marker::Sized + #krate::__private::AllHandlersInOneImplBlock<#bounds>> #tr for T {}
                #[allow(dead_code)]
                fn __fusegen_check() where #bound {}
            };
        });
    }
    if let Some(setting) = options.get(Opt::ReadOnly).filter(|s| s.value.is_on()) {
        let method = syn::Ident::new("read_only_but_write_handlers", setting.span);
        checks.extend(quote! {
            const _: () = {
                #[allow(dead_code)]
                fn __fusegen_check() {
                    use #krate::__private::{ReadOnlyAlone as _, ReadOnlyWithWriteSide as _};
                    (&#krate::__private::ReadOnlyProbe::<#ident>(::core::marker::PhantomData)).#method();
                }
            };
        });
    }
    checks
}

/// For rule handlers that a path-level block writes under another name (its markers come
/// from `paths::expand::inode_level`): ` (at the path level, `getattr`)`; else nothing.
fn path_level_names(names: &[&str]) -> String {
    let mut named: Vec<&str> = Vec::new();
    for name in names {
        let path_level = match *name {
            "lookup" => "getattr",
            "opendir" | "releasedir" => "readdir",
            other => other,
        };
        if !named.contains(&path_level) {
            named.push(path_level);
        }
    }
    if named[..] == names[..] {
        String::new()
    } else {
        format!(" (at the path level, {})", english_list(&named))
    }
}

/// `a`, `a` and `b`, `a`, `b` and `c` (each in backticks).
fn english_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// The block's one implementation, of `AllHandlersInOneImplBlock`: the handlers (which the
/// runtime's blanket `impl Operations` calls) and the markers the derive's option checks
/// require. One implementation, so that a second block for the type is one error.
pub fn handlers(
    item: &ItemImpl,
    handlers: &[Handler],
    written: &[Written],
    krate: &TokenStream,
) -> TokenStream {
    let self_ty = &item.self_ty;
    let methods = handlers
        .iter()
        .map(|h| method(h, self_ty, krate, Calling::Async));
    let handlers_const = handlers_const(handlers, krate);
    let types = marker_types(written, Level::Inode, krate);
    // Spanned on the type, so that a missing derive points at `impl Fs`.
    let derived = crate::assertions::derived(self_ty, krate);
    let allows = allows();
    quote! {
        #allows
        const _: () = {
            #[automatically_derived]
            impl #krate::__private::AllHandlersInOneImplBlock for #self_ty {
                #types
                #handlers_const
                #(#methods)*
            }
            #derived
        };
    }
}

/// The `HANDLERS` constant of a block's implementation: one bit per handler written, each
/// under the handler's own `cfg`.
pub(crate) fn handlers_const(handlers: &[Handler], krate: &TokenStream) -> TokenStream {
    let bits = handlers.iter().map(|h| {
        let bit = handlers_bit(h.op);
        let cfg = h.cfg.as_ref().map(|c| quote!(#[cfg(#c)]));
        let alternative = h.alternative.map(|a| {
            let alt = alternative_bit(a);
            quote!(let handlers = handlers.union(#krate::Handlers::#alt);)
        });
        quote!(#cfg let handlers = { let handlers = handlers.union(#krate::Handlers::#bit); #alternative handlers };)
    });
    quote! {
        const HANDLERS: #krate::Handlers = {
            let handlers = #krate::Handlers::empty();
            #(#bits)*
            handlers
        };
    }
}

/// `tokens` with every span set to `span`.
pub(crate) fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(g) = &tree {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tree = group.into();
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// A method named after an operation, with its `cfg` predicate.
pub type Written = (&'static Op, syn::Ident, Option<TokenStream>);

/// The predicate under which `op` has a handler among `written`: `Some(None)` always,
/// `Some(Some(p))` when `p` holds, `None` never.
fn presence(op: &Op, written: &[Written]) -> Option<Option<TokenStream>> {
    let cfgs: Vec<&Option<TokenStream>> = written
        .iter()
        .filter(|(o, ..)| o.name == op.name)
        .map(|(.., cfg)| cfg)
        .collect();
    if cfgs.is_empty() {
        None
    } else if cfgs.iter().any(|c| c.is_none()) {
        Some(None)
    } else {
        let cfgs = cfgs.iter().filter_map(|c| c.as_ref());
        Some(Some(quote!(any(#(#cfgs),*))))
    }
}

/// Which kind of block: `AllHandlersInOneImplBlock::Level`.
#[derive(Clone, Copy)]
pub(crate) enum Level {
    Inode,
    Path,
    Blocking,
}

/// The `AllHandlersInOneImplBlock` implementation without handlers: the markers alone. What a
/// path-level block and the fallbacks emit.
pub(crate) fn markers(
    self_ty: &syn::Type,
    written: &[Written],
    level: Level,
    krate: &TokenStream,
) -> TokenStream {
    let types = marker_types(written, level, krate);
    quote! {
        impl #krate::__private::AllHandlersInOneImplBlock for #self_ty {
            #types
        }
    }
}

/// The associated types of `AllHandlersInOneImplBlock`: `Yes` or `No` for every operation, and
/// for `WriteSide` (some handler changes the filesystem), following the handlers' `cfg`s (what
/// the derive's option checks look at); and the block's `Level`.
fn marker_types(written: &[Written], level: Level, krate: &TokenStream) -> TokenStream {
    let yes = quote!(#krate::__private::Yes);
    let no = quote!(#krate::__private::No);
    let assoc = |name: &syn::Ident, presence: Option<Option<TokenStream>>| match presence {
        None => quote!(type #name = #no;),
        Some(None) => quote!(type #name = #yes;),
        Some(Some(cfg)) => quote! {
            #[cfg(#cfg)] type #name = #yes;
            #[cfg(not(#cfg))] type #name = #no;
        },
    };
    let mut types = TokenStream::new();
    let mut write_side = Vec::new();
    for op in ops::OPS {
        let presence = presence(op, written);
        if op.writes {
            write_side.extend(presence.clone());
        }
        types.extend(assoc(&camel_ident(op.name), presence));
    }
    let write_side = if write_side.is_empty() {
        None
    } else if write_side.iter().any(Option::is_none) {
        Some(None)
    } else {
        let cfgs = write_side.iter().flatten();
        Some(Some(quote!(any(#(#cfgs),*))))
    };
    types.extend(assoc(&format_ident!("WriteSide"), write_side));
    types.extend(level_type(level, krate));
    types
}

fn level_type(level: Level, krate: &TokenStream) -> TokenStream {
    match level {
        Level::Inode => quote!(type Level = #krate::__private::InodeLevel;),
        Level::Path => quote!(type Level = #krate::__private::PathLevel;),
        Level::Blocking => quote!(type Level = #krate::__private::BlockingLevel;),
    }
}

/// An inode-level `AllHandlersInOneImplBlock` without handlers that satisfies every option rule
/// (every handler but `forget`, no write side), for fallbacks where the handlers are unknown:
/// the options add no errors then. Through the runtime's blanket impl, the type gets the
/// default `Operations`.
pub fn permissive_markers(self_ty: &syn::Type, krate: &TokenStream) -> TokenStream {
    let types = ops::OPS.iter().map(|op| {
        let name = camel_ident(op.name);
        if op.name == "forget" {
            quote!(type #name = #krate::__private::No;)
        } else {
            quote!(type #name = #krate::__private::Yes;)
        }
    });
    let level = level_type(Level::Inode, krate);
    quote! {
        impl #krate::__private::AllHandlersInOneImplBlock for #self_ty {
            #(#types)*
            type WriteSide = #krate::__private::No;
            #level
        }
    }
}

/// The `Handlers` constant of an operation: `copy_file_range` → `COPY_FILE_RANGE`. The one
/// place the name is made, for the definition (`runtime_items.rs`) and the uses here.
pub(crate) fn handlers_bit(op: &Op) -> syn::Ident {
    format_ident!("{}", op.name.to_uppercase())
}

/// The `Handlers` constant of an alternative's method: `write_data` → `WRITE_DATA`.
pub(crate) fn alternative_bit(a: &ops::Alternative) -> syn::Ident {
    format_ident!("{}", a.method.to_uppercase())
}

/// `copy_file_range` → `CopyFileRange`: `AllHandlersInOneImplBlock`'s associated types (defined from the
/// same function in `runtime_items.rs`) and the option checks' trait names.
pub(crate) fn camel_ident(name: &str) -> syn::Ident {
    let camel: String = name
        .split('_')
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect();
    format_ident!("{}", camel)
}

/// How a generated trait method runs the user's handler.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Calling {
    /// Returns the handler's own future.
    Async,
    /// Calls a plain `fn` and returns its result (`fusegen::Blocking` and
    /// `fusegen::paths::Blocking` move the call to the blocking pool).
    Blocking,
}

/// The trait method that forwards to handler `h`, its result converted to the table's type.
pub(crate) fn method(
    h: &Handler,
    self_ty: &syn::Type,
    krate: &TokenStream,
    calling: Calling,
) -> TokenStream {
    let name = &h.ident;
    let params: Vec<_> = (0..h.op.params.len())
        .map(|i| format_ident!("__fusegen_arg{}", i))
        .collect();
    // A handler with a parameter of its alternative type implements the alternative's method.
    let method = match h.alternative {
        Some(alt) => syn::Ident::new(alt.method, h.ident.span()),
        None => h.ident.clone(),
    };
    let types = h.op.params.iter().map(|p| match h.alternative {
        Some(alt) if alt.param == p.name => table_type(alt.path, krate),
        _ => table_type(p.path, krate),
    });
    let ctx_param =
        h.op.takes_ctx
            .then(|| quote!(__fusegen_ctx: &#krate::RequestContext));
    let ctx_arg = h.has_ctx.then(|| quote!(__fusegen_ctx));
    let unused_ctx = (h.op.takes_ctx && !h.has_ctx).then(|| quote!(let _ = __fusegen_ctx;));
    // `self` keeps the call-site span of the generated `&self`: with the handler's span it
    // would not resolve when the handler's name comes from another macro's input.
    let this = quote!(self);
    // Parameters whose written types rustc compares go through a check on those types.
    let args = (params.iter().map(|p| quote!(#p)).chain(ctx_arg))
        .enumerate()
        .map(|(i, arg)| crate::types::checked_argument(&h.rustc_checks, i, arg, krate));
    // The handler's own future, not an `async` block around it: rustc then reports a future
    // that is not `Send` as "future returned by `<handler>`", on the handler's name.
    let call = quote_spanned! {h.ident.span()=>
        <#self_ty>::#name(#this, #(#args),*)
    };
    let (output, body) = match h.op.returns {
        Returns::Unit => (quote!(()), call),
        Returns::Result { path, .. } => {
            let ok = table_type(path, krate);
            let convert = match calling {
                Calling::Async => {
                    let f = respan(quote!(#krate::__private::convert), h.ret_span);
                    quote_spanned! {h.ret_span=> #f::<_, _, _, #ok>(#call) }
                }
                Calling::Blocking => {
                    let f = respan(quote!(#krate::__private::convert_now), h.ret_span);
                    quote_spanned! {h.ret_span=> #f::<_, _, #ok>(#call) }
                }
            };
            (quote!(#krate::Result<#ok>), convert)
        }
    };
    let cfg = h.cfg.as_ref().map(|c| quote!(#[cfg(#c)]));
    let (returns, guard) = match calling {
        Calling::Async => (
            quote_spanned! {h.ident.span()=>
                impl ::core::future::Future<Output = #output> + ::core::marker::Send
            },
            crate::assertions::thread_safe_guard(&quote!(#self_ty), krate),
        ),
        Calling::Blocking => (output, TokenStream::new()),
    };
    quote! {
        #cfg
        fn #method(&self, #(#params: #types,)* #ctx_param) -> #returns #guard {
            #unused_ctx
            #body
        }
    }
}

/// What the attribute emits when the input has errors: the user's block (so its methods and
/// IDE help survive) and an `Operations` implementation with every default, so that nothing
/// else fails because of the first mistake.
pub fn handlers_fallback(item: &ItemImpl, written: &[Written], krate: &TokenStream) -> TokenStream {
    if item.trait_.is_some() {
        return TokenStream::new();
    }
    let self_ty = &item.self_ty;
    if item.generics.params.is_empty() {
        // The markers of every handler written, well-formed or not, so that the derive's
        // option checks do not add errors to the ones already reported; the runtime's blanket
        // impl makes them the default `Operations`.
        let markers = markers(self_ty, written, Level::Inode, krate);
        return quote!(const _: () = { #markers };);
    }
    // A generic block (an error already) gets a generic fallback, bounded so that it holds
    // wherever the trait's own requirements do (the block's bounds may not include them).
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let bound = bounded(
        where_clause,
        quote!(Self: ::core::marker::Send + ::core::marker::Sync + 'static),
    );
    quote! {
        const _: () = {
            impl #impl_generics #krate::Operations for #self_ty #bound {}
        };
    }
}

/// What the derive emits when its input has errors: a default `Filesystem` implementation
/// (for a generic type, one for every instance that has handlers).
pub fn derive_fallback(input: &DeriveInput, krate: &TokenStream) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let bound = if input.generics.params.is_empty() {
        crate::assertions::thread_safe_guard(&quote!(#ident), krate)
    } else {
        bounded(where_clause, quote!(Self: #krate::Operations))
    };
    let thread_safety = crate::assertions::field_thread_safety(input, krate);
    quote! {
        const _: () = {
            impl #impl_generics #krate::Filesystem for #ident #ty_generics #bound {}
            #thread_safety
        };
    }
}

/// `where_clause` with `predicate` added.
fn bounded(where_clause: Option<&syn::WhereClause>, predicate: TokenStream) -> TokenStream {
    match where_clause {
        Some(w) => {
            let predicates = w.predicates.iter();
            quote!(where #(#predicates,)* #predicate)
        }
        _ => quote!(where #predicate),
    }
}
