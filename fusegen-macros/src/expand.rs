//! Code generation. Only `quote!`: every user error was reported before this runs.
//!
//! Generated code uses absolute paths (`::fusegen::…` or the `crate = "…"` path, `::core::…`),
//! sits inside `const _: () = { … };` so it adds no names to the user's scope, and contains no
//! `unsafe`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{DeriveInput, ItemImpl};

use crate::handlers::Handler;
use crate::ops::Returns;
use crate::option_table::{Kind, Target};
use crate::options::{Options, Value};

/// The path to the runtime crate.
pub fn krate(custom: Option<&syn::Path>) -> TokenStream {
    match custom {
        Some(path) => quote!(#path),
        None => quote!(::fusegen),
    }
}

/// A type from the operation table, with `::fusegen` replaced by the crate path.
fn table_type(path: &str, krate: &TokenStream) -> TokenStream {
    let replaced = path.replace("::fusegen", &krate.to_string());
    match syn::parse_str::<syn::Type>(&replaced) {
        Ok(ty) => quote!(#ty),
        // The table is ours; a type that does not parse is a bug caught by the UI tests.
        Err(e) => e.to_compile_error(),
    }
}

const ALLOWS: &str = "non_upper_case_globals, unused_qualifications, clippy::all, clippy::pedantic";

fn allows() -> TokenStream {
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
        let value = setting_value(s.def.name, &s.def.kind, &s.value, &krate);
        match s.def.target {
            Target::Mount(field) => {
                let field = format_ident!("{}", field);
                mount.push(quote!(options.#field = #value;));
            }
            Target::Workers(field) => {
                let field = format_ident!("{}", field);
                // Workers fields are plain values, not options.
                let value = plain_value(&s.value);
                workers.push(quote!(workers.#field = #value;));
            }
            Target::Macro => {}
        }
    }
    let flag = |name: &str| options.flag(name);
    let killpriv = flag("handle_killpriv");
    let (wb, cs, dot, acl, trunc, noforget) = (
        flag("writeback_cache"),
        flag("cache_symlinks"),
        flag("supports_dot_lookup"),
        flag("acl"),
        flag("atomic_o_trunc"),
        flag("noforget"),
    );
    let allows = allows();
    // Plain `quote!`: the locals below and the statements in `mount`/`workers` must share one
    // hygiene context, which a user span (e.g. from inside a `macro_rules!`) would break.
    quote! {
        #allows
        const _: () = {
            #[automatically_derived]
            impl #krate::Filesystem for #ident {
                #[doc(hidden)]
                const __FUSEGEN_OPTION_CHECKS: #krate::__private::OptionChecks = #krate::__private::OptionChecks {
                    writeback_cache: #wb,
                    cache_symlinks: #cs,
                    supports_dot_lookup: #dot,
                    acl: #acl,
                    atomic_o_trunc: #trunc,
                    noforget: #noforget,
                    handle_killpriv: #killpriv,
                };
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
    }
}

fn plain_value(value: &Value) -> TokenStream {
    match value {
        Value::Duration(nanos) => quote!(::core::time::Duration::from_nanos(#nanos)),
        Value::Int(v) => {
            let lit = Literal::u64_unsuffixed(*v);
            quote!(#lit)
        }
        Value::Bool(b) => quote!(#b),
        Value::Str(s) => quote!(::std::string::String::from(#s)),
        Value::Path(_) => quote!(()),
    }
}

fn setting_value(name: &str, kind: &Kind, value: &Value, krate: &TokenStream) -> TokenStream {
    match (kind, value) {
        (Kind::Flag, Value::Bool(b)) => quote!(#b),
        (Kind::OneOf(_), Value::Str(s)) if name == "transport" => {
            let variant = match s.as_str() {
                "io_uring" => quote!(IoUring),
                "dev" => quote!(Dev),
                _ => quote!(Auto),
            };
            quote!(::core::option::Option::Some(#krate::Transport::#variant))
        }
        (Kind::OneOf(_), Value::Str(s)) => {
            let variant = match s.as_str() {
                "direct" => quote!(Direct),
                "fusermount" => quote!(Fusermount),
                _ => quote!(Auto),
            };
            quote!(#krate::MountMethod::#variant)
        }
        (_, v) => {
            let inner = plain_value(v);
            quote!(::core::option::Option::Some(#inner))
        }
    }
}

/// `impl Operations` from the handlers, plus the compile-time cross-check with the options.
pub fn handlers(item: &ItemImpl, handlers: &[Handler], krate: &TokenStream) -> TokenStream {
    let self_ty = &item.self_ty;
    let methods = handlers.iter().map(|h| method(h, self_ty, krate));
    let bits = handlers.iter().map(|h| {
        let bit = format_ident!("{}", h.op.name.to_uppercase());
        quote!(.union(#krate::Handlers::#bit))
    });
    let allows = allows();
    // Entirely spanned on the type, so that a failed check (a const panic) and a missing
    // derive (the `Filesystem` bound) point at `impl Fs`, not at the attribute.
    let span = syn::spanned::Spanned::span(self_ty);
    let check_fn = respan(quote!(#krate::__private::check_options), span);
    let check = quote_spanned! {span=>
        const _: () = #check_fn::<#self_ty>();
    };
    quote! {
        #allows
        const _: () = {
            #[automatically_derived]
            impl #krate::Operations for #self_ty {
                const HANDLERS: #krate::Handlers = #krate::Handlers::empty() #(#bits)*;
                #(#methods)*
            }
            #check
        };
    }
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
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

fn method(h: &Handler, self_ty: &syn::Type, krate: &TokenStream) -> TokenStream {
    let name = &h.ident;
    let params: Vec<_> = (0..h.op.params.len())
        .map(|i| format_ident!("__fusegen_arg{}", i))
        .collect();
    let types = h.op.params.iter().map(|p| table_type(p.path, krate));
    let ctx_param =
        h.op.takes_ctx
            .then(|| quote!(__fusegen_ctx: &#krate::RequestContext));
    let ctx_arg = h.has_ctx.then(|| quote!(__fusegen_ctx));
    let unused_ctx = (h.op.takes_ctx && !h.has_ctx).then(|| quote!(let _ = __fusegen_ctx;));
    let call = quote_spanned! {h.ident.span()=>
        <#self_ty>::#name(self, #(#params,)* #ctx_arg).await
    };
    let (output, body) = match h.op.returns {
        Returns::Unit => (quote!(()), call),
        Returns::Result { path, .. } => {
            let ok = table_type(path, krate);
            let convert = quote_spanned! {h.ret_span=>
                match #call {
                    ::core::result::Result::Ok(value) => ::core::result::Result::Ok(::core::convert::Into::into(value)),
                    ::core::result::Result::Err(error) => ::core::result::Result::Err(::core::convert::Into::into(error)),
                }
            };
            (quote!(#krate::Result<#ok>), convert)
        }
    };
    quote! {
        fn #name(&self, #(#params: #types,)* #ctx_param)
            -> impl ::core::future::Future<Output = #output> + ::core::marker::Send
        {
            #unused_ctx
            async move { #body }
        }
    }
}

/// What the attribute emits when the input has errors: the user's block (so its methods and
/// IDE help survive) and an `Operations` implementation with every default, so that nothing
/// else fails because of the first mistake.
pub fn handlers_fallback(item: &ItemImpl, krate: &TokenStream) -> TokenStream {
    if item.trait_.is_some() {
        return TokenStream::new();
    }
    let self_ty = &item.self_ty;
    // A generic block gets a generic fallback, bounded so that it holds wherever the
    // trait's own requirements do (the block's bounds may not include them).
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
        quote!(#where_clause)
    } else {
        bounded(where_clause, quote!(Self: #krate::Operations))
    };
    quote! {
        const _: () = {
            impl #impl_generics #krate::Filesystem for #ident #ty_generics #bound {}
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
