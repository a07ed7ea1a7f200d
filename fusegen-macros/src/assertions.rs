//! Generated checks whose only purpose is a good error: thread safety of the filesystem type
//! (one error per field that is not `Send + Sync`, naming the field and the fix) and the
//! handlers block's requirement of `#[derive(Filesystem)]`.
//!
//! The derive's `impl Filesystem` and the handlers block's methods are guarded by
//! [`thread_safe_guard`] (and the runtime's blanket `impl Operations` requires `Send + Sync`), so
//! that a type that is not thread-safe gets no errors on generated impls; the checks here are
//! then what the user reads.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::{Data, DeriveInput};

/// `where for<'a> TY: ThreadSafe`: the generated impls hold only for a thread-safe type. The
/// higher-ranked form keeps a false bound from being rejected as "trivial" on stable Rust.
pub fn thread_safe_guard(ty: &TokenStream, krate: &TokenStream) -> TokenStream {
    quote!(where for<'__fusegen> #ty: #krate::__private::ThreadSafe)
}

/// The verdict of `ThreadSafety::<TY>`: `IsThreadSafe` or `NotThreadSafe`, as an expression.
fn verdict(ty: &TokenStream, krate: &TokenStream) -> TokenStream {
    quote! {{
        use #krate::__private::{VerdictNotThreadSafe as _, VerdictThreadSafe as _};
        (&#krate::__private::ThreadSafety::<#ty>(::core::marker::PhantomData)).verdict()
    }}
}

/// Requires `#[derive(Filesystem)]` (or a hand-written `impl Filesystem`) of a handlers
/// block's type, spanned on the type, unless the type is not thread-safe (the derive's field
/// errors say why it lacks `Filesystem` then).
pub fn derived(self_ty: &syn::Type, krate: &TokenStream) -> TokenStream {
    let ty = quote!(#self_ty);
    let verdict = verdict(&ty, krate);
    let witness = spanned_over(quote!(::core::marker::PhantomData::<), &ty, quote!(>));
    quote! {
        #[allow(dead_code)]
        fn __fusegen_derived() {
            #krate::__private::is_filesystem(#verdict, #witness);
        }
    }
}

/// One check per field of the derive's struct: when the struct is not `Send + Sync`, every
/// field that is not gets one error on its type, naming the field and what to use instead.
/// Also the `Derived` marker, which the handlers block requires of such a type.
pub fn field_thread_safety(input: &DeriveInput, krate: &TokenStream) -> TokenStream {
    let Data::Struct(data) = &input.data else {
        return TokenStream::new();
    };
    if !input.generics.params.is_empty() {
        // Rejected by the derive already; the field types would need the generics.
        return TokenStream::new();
    }
    let ident = &input.ident;
    let struct_ty = quote!(#ident);
    let mut checks = quote!(impl #krate::__private::Derived for #ident {});
    for (index, field) in data.fields.iter().enumerate() {
        let name = field
            .ident
            .as_ref()
            .map_or_else(|| index.to_string(), ToString::to_string);
        let ty = replace_self(field.ty.to_token_stream(), ident);
        let message = format!(
            "field `{name}` of `{ident}` is `{{Self}}`, which cannot be shared between threads"
        );
        let label = format!("use {}", fixes(&field.ty).join(" and "));
        let note = format!(
            "the runtime serves requests on several threads at once, all through `&{ident}`, \
             so every field must be `Send` and `Sync`"
        );
        let tr = format_ident!("FieldIsThreadSafe");
        let verdict = verdict(&struct_ty, krate);
        let witness = spanned_over(quote!(::core::marker::PhantomData::<), &ty, quote!(>));
        checks.extend(quote! {
            const _: () = {
                #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                trait #tr<V> {}
                impl<T: ?::core::marker::Sized> #tr<#krate::__private::IsThreadSafe> for T {}
                #[diagnostic::do_not_recommend]
                impl<T: ?::core::marker::Sized + ::core::marker::Send + ::core::marker::Sync>
                    #tr<#krate::__private::NotThreadSafe> for T {}
                fn __fusegen_field<V, T: ?::core::marker::Sized + #tr<V>>(
                    _: V,
                    _: ::core::marker::PhantomData<T>,
                ) {
                }
                #[allow(dead_code)]
                fn __fusegen_check() {
                    __fusegen_field(#verdict, #witness);
                }
            };
        });
    }
    checks
}

/// `prefix ty suffix`, with `prefix` spanned on the first token of `ty` and `suffix` on its
/// last: rustc's span of the whole is then the user's type, which the error underlines.
fn spanned_over(prefix: TokenStream, ty: &TokenStream, suffix: TokenStream) -> TokenStream {
    let first = ty.clone().into_iter().next().map(|t| t.span());
    let last = last_span(ty);
    let (Some(first), Some(last)) = (first, last) else {
        return quote!(#prefix #ty #suffix);
    };
    let prefix = respan(prefix, first);
    let suffix = respan(suffix, last);
    quote!(#prefix #ty #suffix)
}

/// The span of the last token of `tokens` (the closing delimiter of a trailing group).
fn last_span(tokens: &TokenStream) -> Option<Span> {
    tokens.clone().into_iter().last().map(|t| match t {
        TokenTree::Group(g) => g.span_close(),
        other => other.span(),
    })
}

/// `tokens` with every span set to `span` (their groups are not expected here).
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            tree.set_span(span);
            tree
        })
        .collect()
}

/// `tokens` with `Self` replaced by the struct's name (a field may name `Self`, which has no
/// meaning in the free function that checks it).
fn replace_self(tokens: TokenStream, ident: &syn::Ident) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Ident(i) if i == "Self" => {
                TokenTree::Ident(syn::Ident::new(&ident.to_string(), i.span()))
            }
            TokenTree::Group(g) => {
                let mut group =
                    proc_macro2::Group::new(g.delimiter(), replace_self(g.stream(), ident));
                group.set_span(g.span());
                TokenTree::Group(group)
            }
            other => other,
        })
        .collect()
}

/// What to use instead of the thread-unsafe parts the field's type names, in the user's
/// words; a general advice when none is recognised.
fn fixes(ty: &syn::Type) -> Vec<&'static str> {
    let mut seen = Seen::default();
    seen.scan(ty.to_token_stream());
    let mut fixes = Vec::new();
    if seen.idents.iter().any(|i| i == "Rc") {
        fixes.push("`Arc` instead of `Rc`");
    }
    if seen.idents.iter().any(|i| i == "RefCell") {
        fixes.push(
            "`std::sync::Mutex` or `RwLock` instead of `RefCell` (`tokio::sync::Mutex` if a guard \
             is held across `.await`)",
        );
    }
    if seen.idents.iter().any(|i| i == "Cell") {
        fixes.push("an atomic (`AtomicU64`, `AtomicBool`, …) or a `Mutex` instead of `Cell`");
    }
    if seen.idents.iter().any(|i| i == "OnceCell") {
        fixes.push("`std::sync::OnceLock` instead of `OnceCell`");
    }
    if seen.idents.iter().any(|i| i == "LazyCell") {
        fixes.push("`std::sync::LazyLock` instead of `LazyCell`");
    }
    if seen.idents.iter().any(|i| i == "UnsafeCell") {
        fixes.push("a `Mutex` or atomics instead of `UnsafeCell`");
    }
    if seen.raw_pointer {
        fixes.push(
            "a wrapper type around the raw pointer with `unsafe impl Send` and `unsafe impl Sync`, \
             stating why sharing it is sound",
        );
    }
    let has = |name: &str| seen.idents.iter().any(|i| i == name);
    if seen.idents.iter().any(|i| i == "dyn") && !(has("Send") && has("Sync")) {
        fixes.push("`dyn Trait + Send + Sync` for the trait object");
    }
    if fixes.is_empty() {
        fixes.push("thread-safe types (`Arc`, `Mutex`, `RwLock`, atomics)");
    }
    fixes
}

/// The identifiers of a type, and whether it has a raw pointer (`*const` / `*mut`).
#[derive(Default)]
struct Seen {
    idents: Vec<syn::Ident>,
    raw_pointer: bool,
}

impl Seen {
    fn scan(&mut self, tokens: TokenStream) {
        let mut after_star = false;
        for tree in tokens {
            match tree {
                TokenTree::Ident(i) => {
                    if after_star && (i == "const" || i == "mut") {
                        self.raw_pointer = true;
                    }
                    self.idents.push(i);
                    after_star = false;
                }
                TokenTree::Punct(p) => after_star = p.as_char() == '*',
                TokenTree::Group(g) => {
                    self.scan(g.stream());
                    after_star = false;
                }
                TokenTree::Literal(_) => after_star = false,
            }
        }
    }
}
