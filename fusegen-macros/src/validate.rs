//! Checks across items: the shape of the derive input and of the `impl` block, options that
//! contradict each other, and handlers that only make sense together. Every problem is
//! recorded in the [`Ctxt`]; nothing here generates code.
//!
//! Checks that need both the options and the handlers (`option_table::HANDLER_RULES`) run in
//! the generated code as trait bounds, because the two macros see different items: see
//! `expand::handler_checks`.

use syn::{Data, DeriveInput, ItemImpl};

use fusegen_options::rules::{self, Rule};
use fusegen_options::{Side, Value};

use crate::ctxt::Ctxt;
use crate::options::{Options, Setting};
use crate::types::normalize;

/// `#[derive(Filesystem)]` goes on a non-generic struct, with options on the struct only.
pub fn check_derive_input(cx: &Ctxt, input: &DeriveInput) {
    match &input.data {
        Data::Struct(s) => {
            for field in &s.fields {
                for attr in field.attrs.iter().filter(|a| a.path().is_ident("fuse")) {
                    cx.error_spanned_by(
                        attr,
                        "`#[fuse(...)]` options go on the struct, not on its fields",
                    );
                }
            }
        }
        Data::Enum(e) => cx.error_spanned_by(
            e.enum_token,
            "`#[derive(Filesystem)]` only supports structs: put the filesystem's state in a struct \
             (an enum can be one of its fields)",
        ),
        Data::Union(u) => cx.error_spanned_by(
            u.union_token,
            "`#[derive(Filesystem)]` only supports structs, not unions",
        ),
    }
    let only_lifetimes = input
        .generics
        .params
        .iter()
        .all(|p| matches!(p, syn::GenericParam::Lifetime(_)));
    if !input.generics.params.is_empty() && only_lifetimes {
        cx.error_spanned_by(
            &input.generics,
            "a filesystem cannot borrow: it is shared with handler tasks for as long as it is \
             mounted, so it must own its data (`'static`); hold `Vec<u8>`, `Arc<[u8]>` or \
             `&'static [u8]` instead of a reference with a lifetime parameter",
        );
    } else if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "`#[derive(Filesystem)]` does not support generic structs yet: use a concrete type \
             and keep the generic part in a field (e.g. `Box<dyn Backend>`)",
        );
    }
}

/// Options that contradict each other or make another one pointless: the shared table's rules
/// (`fusegen_options::rules`, which `-o` text is held to as well), every broken one reported,
/// underlining the options involved.
pub fn check_options(cx: &Ctxt, options: &Options) {
    for broken in rules::check(options, Side::Attribute) {
        let settings: Vec<(usize, &Setting)> = broken
            .options
            .iter()
            .filter_map(|opt| {
                let i = options.settings.iter().position(|s| s.def.id == *opt)?;
                Some((i, &options.settings[i]))
            })
            .collect();
        match (broken.rule, settings.as_slice()) {
            (Rule::Conflict { .. }, [a, b]) => {
                let (first, last) = ordered(*a, *b);
                // A choice is part of the conflict (`mount_method = "direct"`): underline it.
                let end = match last.value {
                    Value::Choice(_) => last.value_span,
                    _ => last.span,
                };
                cx.error_between(first.span, end, broken.message);
            }
            (Rule::AtMost { .. }, [a, b]) => {
                let (first, last) = ordered(*a, *b);
                cx.error_between(first.span, last.value_span, broken.message);
            }
            // Bounded by a default: the value is what is too large.
            (Rule::AtMost { .. }, [(_, s)]) => cx.error_at(s.value_span, broken.message),
            (_, [(_, s), ..]) => cx.error_at(s.span, broken.message),
            // The rule's options were all read from the settings.
            (_, []) => cx.error_at(proc_macro2::Span::call_site(), broken.message),
        }
    }
}

/// Two settings in the order they were written.
fn ordered<'a>(a: (usize, &'a Setting), b: (usize, &'a Setting)) -> (&'a Setting, &'a Setting) {
    if a.0 <= b.0 { (a.1, b.1) } else { (b.1, a.1) }
}

/// The attribute goes on an inherent, non-generic `impl` block.
pub fn check_impl(cx: &Ctxt, item: &ItemImpl) {
    if let Some((_, path, _)) = &item.trait_ {
        let ty = normalize(&item.self_ty);
        let trait_name = path
            .segments
            .last()
            .map_or_else(String::new, |s| s.ident.to_string());
        cx.error_spanned_by(
            path,
            format!(
                "`#[fusegen::handlers]` goes on an inherent `impl {ty}` block, not on \
                 `impl {trait_name} for {ty}`: it writes the `Operations` implementation from the \
                 handlers itself"
            ),
        );
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            "`#[fusegen::handlers]` does not support generic `impl` blocks yet: implement the \
             handlers for one concrete type",
        );
    }
    if let Some(unsafety) = &item.unsafety {
        cx.error_spanned_by(
            unsafety,
            "`#[fusegen::handlers]` cannot go on an `unsafe impl`",
        );
    }
    crate::handlers::check_attrs(cx, &item.attrs);
}

/// Handlers that the kernel only uses together. `written` holds every method named after an
/// operation, well-formed or not, so that a mistake in `getlk` does not also report a missing
/// `getlk` for `setlk`.
pub fn check_handler_set(cx: &Ctxt, written: &[crate::expand::Written]) {
    let find = |name: &str| written.iter().find(|(op, ..)| op.name == name);
    let why =
        "the kernel sends POSIX locks to the filesystem only when it can both test and set them";
    match (find("getlk"), find("setlk")) {
        (Some((_, ident, _)), None) => cx.error_spanned_by(
            ident,
            format!("`getlk` needs a `setlk` handler as well: {why}"),
        ),
        (None, Some((_, ident, _))) => cx.error_spanned_by(
            ident,
            format!("`setlk` needs a `getlk` handler as well: {why}"),
        ),
        _ => {}
    }
}
