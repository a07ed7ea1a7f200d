//! Code generation for path-mode blocks: the `PathOperations` (or, for a blocking block,
//! `BlockingPathOperations`) implementation, `IntoOperations` to the `PathFs` adapter that
//! keeps the inodes, and the `AllHandlersInOneImplBlock` markers in inode-level terms so that the derive's
//! option checks apply unchanged.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ItemImpl;

use super::Mode;
use crate::expand::{self, Written};
use crate::handlers::Handler;
use crate::ops;

/// The trait a block of `mode` implements, and the inode-level filesystem that serves it.
fn traits(self_ty: &syn::Type, mode: Mode, krate: &TokenStream) -> (TokenStream, TokenStream) {
    if mode.blocking {
        (
            quote!(#krate::paths::BlockingPathOperations),
            quote!(#krate::paths::PathFs<#krate::paths::Blocking<#self_ty>>),
        )
    } else {
        (
            quote!(#krate::paths::PathOperations),
            quote!(#krate::paths::PathFs<#self_ty>),
        )
    }
}

/// `into_operations`' body: the user's value wrapped for its mode.
fn wrap(mode: Mode, krate: &TokenStream) -> TokenStream {
    if mode.blocking {
        quote!(#krate::paths::PathFs::new(#krate::paths::Blocking::new(self)))
    } else {
        quote!(#krate::paths::PathFs::new(self))
    }
}

/// Everything a well-formed path-mode block generates.
pub fn handlers(
    item: &ItemImpl,
    handlers: &[Handler],
    written: &[Written],
    mode: Mode,
    krate: &TokenStream,
) -> TokenStream {
    let self_ty = &item.self_ty;
    let (path_trait, served) = traits(self_ty, mode, krate);
    let calling = if mode.blocking {
        expand::Calling::Blocking
    } else {
        expand::Calling::Async
    };
    let methods = handlers
        .iter()
        .map(|h| expand::method(h, self_ty, krate, calling));
    let handlers_const = expand::handlers_const(handlers, krate);
    let wrapped = wrap(mode, krate);
    let markers = expand::markers(self_ty, &inode_level(written), expand::Level::Path, krate);
    // The derive's configuration, required once and spanned on the type, so that a missing
    // derive is one error that points at `impl Fs`.
    let span = syn::spanned::Spanned::span(self_ty);
    let configured = expand::respan(quote!(#krate::__private::Configured), span);
    let configuration = quote_spanned! {span=>
        const __FUSEGEN_CONFIGURATION: fn() -> (#krate::MountOptions, #krate::Workers) =
            <#self_ty as #configured>::configuration;
    };
    let allows = expand::allows();
    quote! {
        #allows
        const _: () = {
            #[automatically_derived]
            impl #path_trait for #self_ty {
                #handlers_const
                fn mount_options() -> #krate::MountOptions {
                    __FUSEGEN_CONFIGURATION().0
                }
                fn workers() -> #krate::Workers {
                    __FUSEGEN_CONFIGURATION().1
                }
                #(#methods)*
            }
            #configuration
            #[automatically_derived]
            impl #krate::IntoOperations for #self_ty {
                type Operations = #served;
                fn into_operations(self) -> #served {
                    #wrapped
                }
            }
            #markers
        };
    }
}

/// What a path-mode block emits when it has errors: every default, so that nothing else fails
/// because of the first mistake.
pub fn fallback(
    item: &ItemImpl,
    written: &[Written],
    mode: Mode,
    krate: &TokenStream,
) -> TokenStream {
    if item.trait_.is_some() || !item.generics.params.is_empty() {
        // Errors already; a generic block's fallback would need its generics.
        return TokenStream::new();
    }
    let self_ty = &item.self_ty;
    let (path_trait, served) = traits(self_ty, mode, krate);
    let wrapped = wrap(mode, krate);
    let markers = expand::markers(self_ty, &inode_level(written), expand::Level::Path, krate);
    quote! {
        const _: () = {
            impl #path_trait for #self_ty {}
            impl #krate::IntoOperations for #self_ty {
                type Operations = #served;
                fn into_operations(self) -> #served {
                    #wrapped
                }
            }
            #markers
        };
    }
}

/// The path-level handlers written, as the inode-level handlers the runtime then has: each
/// under its own name, plus `lookup` for `getattr` (lookups are answered from it) and
/// `opendir`/`releasedir` for `readdir` (the runtime keeps each open directory's listing).
/// `forget` never: the runtime answers it, and `noforget` only stops that.
fn inode_level(written: &[Written]) -> Vec<Written> {
    let mut mapped = Vec::new();
    for (op, ident, cfg) in written {
        let mut push = |name: &str| {
            if let Some(inode_op) = ops::find(name) {
                mapped.push((inode_op, ident.clone(), cfg.clone()));
            }
        };
        push(op.name);
        match op.name {
            "getattr" => push("lookup"),
            "readdir" => {
                push("opendir");
                push("releasedir");
            }
            _ => {}
        }
    }
    mapped
}
