//! Checks across items: the shape of the derive input and of the `impl` block, options that
//! contradict each other, and handlers that only make sense together. Every problem is
//! recorded in the [`Ctxt`]; nothing here generates code.
//!
//! Checks that need both the options and the handlers run at compile time in the generated
//! code (`fusegen::__private::check_options`), because the two macros see different items.

use syn::{Data, DeriveInput, ItemImpl};

use crate::ctxt::Ctxt;
use crate::handlers::Handler;
use crate::options::{Options, Value};

/// `#[derive(Filesystem)]` goes on a non-generic struct, with options on the struct only.
pub fn check_derive_input(cx: &Ctxt, input: &DeriveInput) {
    match &input.data {
        Data::Struct(s) => {
            for field in &s.fields {
                for attr in field.attrs.iter().filter(|a| a.path().is_ident("fuse")) {
                    cx.error_spanned_by(
                        attr,
                        "`#[fuse(...)]` options go on the struct itself, not on its fields",
                    );
                }
            }
        }
        Data::Enum(e) => cx.error_spanned_by(
            e.enum_token,
            "`#[derive(Filesystem)]` works on structs only; put the filesystem's state in a struct \
             (an enum can be one of its fields)",
        ),
        Data::Union(u) => cx.error_spanned_by(
            u.union_token,
            "`#[derive(Filesystem)]` works on structs only, not unions",
        ),
    }
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "`#[derive(Filesystem)]` does not support generic structs yet; use a concrete type \
             and keep the generic part in a field (e.g. `Box<dyn Backend>`)",
        );
    }
}

/// Options that contradict each other or make another one pointless.
pub fn check_options(cx: &Ctxt, options: &Options) {
    let conflicts: &[(&str, &str, &str)] = &[
        (
            "allow_other",
            "allow_root",
            "`allow_root` already admits root; `allow_other` admits everyone",
        ),
        (
            "direct_io",
            "kernel_cache",
            "with `direct_io` nothing is cached, so `kernel_cache` has no effect",
        ),
        (
            "direct_io",
            "auto_cache",
            "with `direct_io` nothing is cached, so `auto_cache` has no effect",
        ),
        (
            "kernel_cache",
            "auto_cache",
            "`kernel_cache` keeps data unconditionally, `auto_cache` drops it on change",
        ),
    ];
    for (a, b, why) in conflicts {
        let position = |name: &str| {
            options
                .settings
                .iter()
                .position(|s| s.def.name == name && matches!(s.value, Value::Bool(true)))
        };
        if let (Some(i), Some(j)) = (position(a), position(b)) {
            // Reported once, at whichever of the two was written last.
            let later = &options.settings[i.max(j)];
            cx.error_at(
                later.span,
                format!("`{a}` and `{b}` contradict each other: {why}"),
            );
        }
    }
    let requires: &[(&str, &str)] = &[("intr_signal", "intr"), ("ac_attr_timeout", "auto_cache")];
    for (option, needs) in requires {
        if let Some(s) = options.get(option)
            && !options.flag(needs)
        {
            cx.error_at(
                s.span,
                format!("`{option}` has no effect without `{needs}`"),
            );
        }
    }
    if let (Some((min, _)), Some((max, max_span))) =
        (options.int("min_tasks"), options.int("max_tasks"))
        && min > max
    {
        cx.error_at(
            max_span,
            format!("`max_tasks = {max}` is below `min_tasks = {min}`"),
        );
    }
    if let (Some((bg, _)), Some((ct, ct_span))) = (
        options.int("max_background"),
        options.int("congestion_threshold"),
    ) && ct > bg
    {
        cx.error_at(
            ct_span,
            format!("`congestion_threshold = {ct}` is above `max_background = {bg}`"),
        );
    }
    if let Some(s) = options.get("subtype")
        && let Value::Str(v) = &s.value
        && (v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)))
    {
        cx.error_at(
            s.span,
            format!("`subtype = \"{v}\"`: use letters, digits, `_`, `-` and `.` only"),
        );
    }
    if let Some(s) = options.get("fsname")
        && let Value::Str(v) = &s.value
        && (v.is_empty() || v.contains('\0'))
    {
        cx.error_at(
            s.span,
            "`fsname` must be a non-empty string without NUL bytes",
        );
    }
}

/// The attribute goes on an inherent, non-generic `impl` block.
pub fn check_impl(cx: &Ctxt, item: &ItemImpl) {
    if let Some((_, path, _)) = &item.trait_ {
        cx.error_spanned_by(
            path,
            "`#[fusegen::handlers]` goes on an inherent `impl` block (`impl MyFs { ... }`), not on a \
             trait implementation; it writes the `Operations` implementation for you",
        );
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            "`#[fusegen::handlers]` does not support generic `impl` blocks yet",
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

/// Handlers that the kernel only uses together.
pub fn check_handler_set(cx: &Ctxt, handlers: &[Handler]) {
    let find = |name: &str| handlers.iter().find(|h| h.op.name == name);
    match (find("getlk"), find("setlk")) {
        (Some(h), None) => cx.error_spanned_by(
            &h.ident,
            "`getlk` needs `setlk` as well: the kernel sends POSIX locks to the filesystem only when it can both test and set them",
        ),
        (None, Some(h)) => cx.error_spanned_by(
            &h.ident,
            "`setlk` needs `getlk` as well: the kernel sends POSIX locks to the filesystem only when it can both test and set them",
        ),
        _ => {}
    }
}
