//! The items of the runtime crate that list the operations, generated from the table in
//! `ops.rs` by hidden function-like macros that only `fusegen` itself invokes:
//!
//! - `__operation_methods!(crate)` inside `trait Operations`: one method per row, with the
//!   row's documentation, its parameters and the default body its `fallback` names;
//! - `__handler_bits! { ..., pub struct Handlers: u64; }`: the `bitflags!` definition with one
//!   bit per row, in table order;
//! - `__handler_set_types!()` inside `trait __private::AllHandlersInOneImplBlock`: one
//!   associated type per row;
//! - `__handlers_block_methods!(crate)` inside the same trait: `Operations`' methods again,
//!   with their defaults, each `where Self: ThreadSafe`; what a handlers block implements;
//! - `__forward_operation_methods!(crate)` inside the runtime's blanket `impl Operations` for
//!   that trait: each method calls the block's method of the same name.
//!
//! So the runtime restates no operation by hand, and the names used here are the ones
//! `expand.rs` uses when it refers to these items (`handlers_bit`, `camel_ident`).

use proc_macro2::{Delimiter, Group, Literal, TokenStream, TokenTree};
use quote::{format_ident, quote};

use crate::expand::{camel_ident, handlers_bit, table_type};
use crate::ops::{Fallback, OPS, Op, Returns};

/// The methods of `Operations`; `krate` is the path of the runtime crate (`crate` inside it).
pub fn operation_methods(krate: &TokenStream) -> TokenStream {
    OPS.iter().map(|op| method(op, krate)).collect()
}

fn method(op: &Op, krate: &TokenStream) -> TokenStream {
    let signature = signature(op, krate, &TokenStream::new());
    let body = default_body(op, krate);
    let doc = op.doc;
    let when = format!(
        "Kernel requests: {}. When not written: {}.",
        op.requests, op.default
    );
    quote! {
        #[doc = #doc]
        #[doc = ""]
        #[doc = #when]
        #[allow(unused_variables, clippy::too_many_arguments)] // one parameter per kernel argument
        #signature {
            async { #body }
        }
    }
}

/// `fn name(&self, params…, ctx) -> impl Future<Output = …> + Send`, then `extra` (a where
/// clause).
fn signature(op: &Op, krate: &TokenStream, extra: &TokenStream) -> TokenStream {
    let name = format_ident!("{}", op.name);
    let params = op.params.iter().map(|p| {
        let ident = format_ident!("{}", p.name);
        let ty = table_type(p.path, krate);
        quote!(#ident: #ty)
    });
    let ctx = op.takes_ctx.then(|| quote!(ctx: &#krate::RequestContext));
    let output = match op.returns {
        Returns::Unit => quote!(()),
        Returns::Result { path, .. } => {
            let ok = table_type(path, krate);
            quote!(#krate::Result<#ok>)
        }
    };
    quote! {
        fn #name(&self, #(#params,)* #ctx)
            -> impl ::core::future::Future<Output = #output> + ::core::marker::Send #extra
    }
}

/// What an operation answers when it has no handler: the body its `fallback` names.
fn default_body(op: &Op, krate: &TokenStream) -> TokenStream {
    match (op.fallback, op.returns) {
        (Fallback::Enosys, _) => quote!(::core::result::Result::Err(#krate::Errno::ENOSYS)),
        (Fallback::Succeed, Returns::Unit) => TokenStream::new(),
        (Fallback::Succeed, Returns::Result { .. }) => {
            quote!(::core::result::Result::Ok(
                ::core::default::Default::default()
            ))
        }
    }
}

/// The methods of `__private::AllHandlersInOneImplBlock`: `Operations`' methods with their
/// defaults, each where `Self` is thread-safe (so that a handlers block of a type that is not
/// gets no errors on its generated methods; see `assertions::thread_safe_guard`).
pub fn handlers_block_methods(krate: &TokenStream) -> TokenStream {
    OPS.iter()
        .map(|op| {
            let guard = quote!(where Self: #krate::__private::ThreadSafe);
            let signature = signature(op, krate, &guard);
            let body = default_body(op, krate);
            let doc = format!("[`Operations::{}`](crate::Operations::{0}).", op.name);
            quote! {
                #[doc = #doc]
                #[allow(unused_variables, clippy::too_many_arguments)]
                #signature {
                    async { #body }
                }
            }
        })
        .collect()
}

/// The methods of the blanket `impl Operations for T: AllHandlersInOneImplBlock`: each calls
/// the block's method of the same name.
pub fn forward_operation_methods(krate: &TokenStream) -> TokenStream {
    OPS.iter()
        .map(|op| {
            let signature = signature(op, krate, &TokenStream::new());
            let name = format_ident!("{}", op.name);
            let args = op.params.iter().map(|p| format_ident!("{}", p.name));
            let ctx = op.takes_ctx.then(|| quote!(ctx));
            quote! {
                #[allow(clippy::too_many_arguments)]
                #signature {
                    <Self as #krate::__private::AllHandlersInOneImplBlock>::#name(self, #(#args,)* #ctx)
                }
            }
        })
        .collect()
}

/// `bitflags!` for `Handlers`: `input` is the struct's attributes and header up to `u64;`,
/// and the bits are appended in table order.
pub fn handler_bits(input: TokenStream) -> TokenStream {
    let mut header: Vec<TokenTree> = input.into_iter().collect();
    match header.pop() {
        Some(TokenTree::Punct(p)) if p.as_char() == ';' => {}
        _ => {
            return quote!(::core::compile_error!(
                "expected `pub struct Handlers: u64;`"
            ));
        }
    }
    if OPS.len() > 64 {
        return quote!(::core::compile_error!(
            "more operations than bits in `Handlers: u64`"
        ));
    }
    let bits = OPS.iter().enumerate().map(|(i, op)| {
        let bit = handlers_bit(op);
        let doc = format!("The [`{0}`](Operations::{0}) handler.", op.name);
        let shift = Literal::usize_unsuffixed(i);
        quote!(#[doc = #doc] const #bit = 1 << #shift;)
    });
    let body = TokenTree::Group(Group::new(Delimiter::Brace, quote!(#(#bits)*)));
    let header: TokenStream = header.into_iter().collect();
    quote!(::bitflags::bitflags! { #header #body })
}

/// The associated types of `AllHandlersInOneImplBlock`, one per operation in CamelCase.
pub fn handler_set_types() -> TokenStream {
    let types = OPS.iter().map(|op| {
        let name = camel_ident(op.name);
        let doc = format!("Whether `{}` is written.", op.name);
        quote!(#[doc = #doc] type #name;)
    });
    quote!(#(#types)*)
}

#[cfg(test)]
mod tests {
    use crate::ops::{OPS, find};
    use fusegen_options::{Demand, HANDLER_RULES};

    /// The option rules name handlers by string: each must be a row, or the generated bound
    /// would name an associated type `AllHandlersInOneImplBlock` does not have.
    #[test]
    fn option_rules_name_rows_of_the_table() {
        for rule in HANDLER_RULES {
            let names = match rule.demand {
                Demand::Needs(names) => names,
                Demand::Excludes(name) => &[name][..],
            };
            for name in names {
                assert!(find(name).is_some(), "`{:?}` names `{name}`", rule.option);
            }
        }
    }

    #[test]
    fn names_are_unique_and_fit_the_bits() {
        let mut names: Vec<&str> = OPS.iter().map(|op| op.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPS.len(), "two rows with one name");
        assert!(OPS.len() <= 64, "`Handlers` is a u64");
    }
}
