//! `Ctxt`: collects every error found while reading the macro input, so one compile reports
//! all of them (serde_derive's approach).

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// Error sink for one macro invocation.
///
/// Dropping this object without calling [`Ctxt::check`] panics: every error must be reported.
#[derive(Default)]
pub struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub fn new() -> Ctxt {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error spanning `tokens`.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error at `span`.
    pub fn error_at<M: Display>(&self, span: proc_macro2::Span, message: M) {
        self.push(syn::Error::new(span, message));
    }

    /// Records one error that covers everything from `first` to `last` (two options that
    /// conflict, written in this order): rustc underlines the whole range.
    pub fn error_between<M: Display>(
        &self,
        first: proc_macro2::Span,
        last: proc_macro2::Span,
        message: M,
    ) {
        let ends: proc_macro2::TokenStream = [first, last]
            .into_iter()
            .map(|span| proc_macro2::TokenTree::from(proc_macro2::Ident::new("x", span)))
            .collect();
        self.push(syn::Error::new_spanned(ends, message));
    }

    /// Records a parse error.
    pub fn syn_error(&self, err: syn::Error) {
        self.push(err);
    }

    fn push(&self, err: syn::Error) {
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(err);
        }
    }

    /// Consumes the collected errors, combined into one `syn::Error`.
    pub fn check(self) -> Result<(), syn::Error> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        let mut iter = errors.into_iter();
        let Some(mut combined) = iter.next() else {
            return Ok(());
        };
        for rest in iter {
            combined.combine(rest);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("fusegen-macros bug: Ctxt dropped without check()");
        }
    }
}
