//! Code generation for an inode-level blocking block, `#[fusegen::handlers(blocking)]`: the
//! `BlockingOperations` implementation (the handlers, as plain calls), `IntoOperations` to the
//! `Blocking` adapter that runs them (on the `/dev/fuse` reader thread or tokio's blocking pool), and the
//! `AllHandlersInOneImplBlock` markers for the derive's option checks.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemImpl;

use crate::expand::{self, Calling, Level, Written};
use crate::handlers::Handler;

/// Everything a well-formed inode-level blocking block generates.
pub fn handlers(
    item: &ItemImpl,
    handlers: &[Handler],
    written: &[Written],
    krate: &TokenStream,
) -> TokenStream {
    let self_ty = &item.self_ty;
    let methods = handlers
        .iter()
        .map(|h| expand::method(h, self_ty, krate, Calling::Blocking));
    let handlers_const = expand::handlers_const(handlers, krate);
    let markers = expand::markers(self_ty, written, Level::Blocking, krate);
    // The handlers run on other threads, through an `Arc`: a type that is not `Send + Sync`
    // gets the derive's per-field errors instead of errors on these impls.
    let guard = crate::assertions::thread_safe_guard(&quote!(#self_ty), krate);
    // Spanned on the type, so that a missing derive points at `impl Fs`.
    let derived = crate::assertions::derived(self_ty, krate);
    let allows = expand::allows();
    quote! {
        #allows
        const _: () = {
            #[automatically_derived]
            impl #krate::BlockingOperations for #self_ty #guard {
                #handlers_const
                #(#methods)*
            }
            #[automatically_derived]
            impl #krate::IntoOperations for #self_ty #guard {
                type Operations = #krate::Blocking<#self_ty>;
                fn into_operations(self) -> #krate::Blocking<#self_ty> {
                    #krate::Blocking::new(self)
                }
            }
            #markers
            #derived
        };
    }
}
