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
//!   that trait: each method calls the block's method of the same name;
//! - `__blocking_operation_methods!(crate)` inside `trait BlockingOperations`: `Operations`'
//!   methods as plain `fn`s, and `__blocking_bridge_methods!(crate)` inside
//!   `impl Operations for Blocking<T>`: each runs `T`'s method on tokio's blocking pool.
//!
//! So the runtime restates no operation by hand, and the names used here are the ones
//! `expand.rs` uses when it refers to these items (`handlers_bit`, `camel_ident`).

use proc_macro2::{Delimiter, Group, Literal, TokenStream, TokenTree};
use quote::{format_ident, quote};

use crate::expand::{alternative_bit, camel_ident, handlers_bit, table_type};
use crate::ops::{ALTERNATIVES, Fallback, OPS, Op, Returns};

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
    let output = output(op, krate);
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

/// The methods of `fusegen::BlockingOperations`: `Operations`' methods as plain `fn`s, with the
/// same defaults.
pub fn blocking_operation_methods(krate: &TokenStream) -> TokenStream {
    OPS.iter()
        .map(|op| {
            let signature = plain_signature(op, krate);
            let body = default_body(op, krate);
            let doc = format!(
                "[`Operations::{0}`](crate::Operations::{0}), as a plain `fn`.",
                op.name
            );
            quote! {
                #[doc = #doc]
                #[allow(unused_variables, clippy::too_many_arguments)]
                #signature {
                    #body
                }
            }
        })
        .collect()
}

/// `fn name(&self, params…, ctx) -> Result<…>`: a blocking handler's signature.
fn plain_signature(op: &Op, krate: &TokenStream) -> TokenStream {
    let name = format_ident!("{}", op.name);
    let params = op.params.iter().map(|p| {
        let ident = format_ident!("{}", p.name);
        let ty = table_type(p.path, krate);
        quote!(#ident: #ty)
    });
    let ctx = op.takes_ctx.then(|| quote!(ctx: &#krate::RequestContext));
    let output = output(op, krate);
    quote!(fn #name(&self, #(#params,)* #ctx) -> #output)
}

fn output(op: &Op, krate: &TokenStream) -> TokenStream {
    match op.returns {
        Returns::Unit => quote!(()),
        Returns::Result { path, .. } => {
            let ok = table_type(path, krate);
            quote!(#krate::Result<#ok>)
        }
    }
}

/// The methods of `impl<T: BlockingOperations> Operations for Blocking<T>` (inside the runtime
/// crate, `krate` being `crate`): each carries its arguments to tokio's blocking pool and calls
/// `T`'s method there. The readdir reply, which borrows the request, is filled on the pool as
/// a reply of its own and appended to the request's one when the call returns.
pub fn blocking_bridge_methods(krate: &TokenStream) -> TokenStream {
    OPS.iter()
        .map(|op| {
            let signature = signature(op, krate, &TokenStream::new());
            let name = format_ident!("{}", op.name);
            let label = op.name;
            let handoff = quote!(#krate::helpers::handoff);
            let reply = op.params.iter().position(|p| p.ty.contains("ReaddirReply"));
            let mut carried = Vec::new();
            let mut lent = Vec::new();
            for (i, p) in op.params.iter().enumerate() {
                let ident = format_ident!("{}", p.name);
                if Some(i) == reply {
                    lent.push(quote!(&mut __fusegen_reply));
                } else {
                    carried.push(quote!(let #ident = #handoff::Carry::carry(#ident);));
                    lent.push(quote!(#handoff::Lend::lend(&#ident)));
                }
            }
            if op.takes_ctx {
                carried.push(quote!(let ctx = #handoff::Carry::carry(ctx);));
                lent.push(quote!(#handoff::Lend::lend(&ctx)));
            }
            let call = quote!(<T as #krate::BlockingOperations>::#name(&fs, #(#lent),*));
            let body = match reply.map(|i| format_ident!("{}", op.params[i].name)) {
                None => quote! {
                    #handoff::run(#label, move || #call)
                },
                Some(out) => quote! {
                    let (__fusegen_room, __fusegen_plus, __fusegen_policy) = #out.spare();
                    let call = #handoff::run(#label, move || {
                        let mut __fusegen_reply = #krate::ReaddirReply::new(
                            __fusegen_room,
                            __fusegen_plus,
                            &__fusegen_policy,
                        );
                        let result = #call;
                        (result, ::core::option::Option::Some(__fusegen_reply.into_filled()))
                    });
                    async move {
                        let (result, filled) = call.await;
                        if let ::core::option::Option::Some(filled) = filled {
                            #out.absorb(filled);
                        }
                        result
                    }
                },
            };
            quote! {
                #[allow(clippy::too_many_arguments)]
                #signature {
                    let fs = self.shared();
                    #(#carried)*
                    #body
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
    if ALTERNATIVES
        .iter()
        .any(|a| (a.bit as usize) < OPS.len() || a.bit > 63)
    {
        return quote!(::core::compile_error!(
            "an alternative's `Handlers` bit overlaps the operations' bits"
        ));
    }
    let bits = OPS.iter().enumerate().map(|(i, op)| {
        let bit = handlers_bit(op);
        let doc = format!("The [`{0}`](Operations::{0}) handler.", op.name);
        let shift = Literal::usize_unsuffixed(i);
        quote!(#[doc = #doc] const #bit = 1 << #shift;)
    });
    let alternatives = ALTERNATIVES.iter().map(|a| {
        let bit = alternative_bit(a);
        let doc = format!(
            "The [`{0}`](Operations::{0}) method: a `{1}` handler that takes `{2}: {3}`.",
            a.method, a.op, a.param, a.ty
        );
        let shift = Literal::u32_unsuffixed(a.bit);
        quote!(#[doc = #doc] const #bit = 1 << #shift;)
    });
    let body = TokenTree::Group(Group::new(
        Delimiter::Brace,
        quote!(#(#bits)* #(#alternatives)*),
    ));
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
