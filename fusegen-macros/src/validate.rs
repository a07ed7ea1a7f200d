//! Checks across items: the shape of the derive input and of the `impl` block, options that
//! contradict each other, and handlers that only make sense together. Every problem is
//! recorded in the [`Ctxt`]; nothing here generates code.
//!
//! Checks that need both the options and the handlers (`option_table::HANDLER_RULES`) run in
//! the generated code as trait bounds, because the two macros see different items: see
//! `expand::handler_checks`.

use syn::{Data, DeriveInput, ItemImpl};

use crate::ctxt::Ctxt;
use crate::options::{Options, Setting, Value};
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

/// Options that contradict each other or make another one pointless.
pub fn check_options(cx: &Ctxt, options: &Options) {
    let conflicts: &[(&str, &str, &str)] = &[
        (
            "allow_other",
            "allow_root",
            "`allow_other` admits every user, root included; keep the one you mean",
        ),
        (
            "direct_io",
            "kernel_cache",
            "with `direct_io` nothing is cached, so `kernel_cache` would have no effect",
        ),
        (
            "direct_io",
            "auto_cache",
            "with `direct_io` nothing is cached, so `auto_cache` would have no effect",
        ),
        (
            "passthrough",
            "writeback_cache",
            "the kernel does not combine passthrough with the writeback cache",
        ),
        (
            "kernel_cache",
            "auto_cache",
            "`kernel_cache` keeps cached data unconditionally, `auto_cache` drops it when the file changes",
        ),
    ];
    let position = |name: &str| {
        options
            .settings
            .iter()
            .position(|s| s.def.name == name && matches!(s.value, Value::Bool(true)))
    };
    for (a, b, why) in conflicts {
        if let (Some(i), Some(j)) = (position(a), position(b)) {
            let (first, last) = ordered(options, i, j);
            cx.error_between(
                first.span,
                last.span,
                format!("`{a}` and `{b}` cannot be used together: {why}"),
            );
        }
    }
    let requires: &[(&str, &str, &str)] = &[
        (
            "intr_signal",
            "intr",
            "add `intr` so that requests can be interrupted",
        ),
        (
            "ac_attr_timeout",
            "auto_cache",
            "add `auto_cache`, or use `attr_timeout`",
        ),
        (
            "max_stack_depth",
            "passthrough",
            "add `passthrough`, or drop `max_stack_depth`",
        ),
    ];
    for (option, needs, fix) in requires {
        if let Some(s) = options.get(option)
            && !options.flag(needs)
        {
            cx.error_at(
                s.span,
                format!("`{option}` has no effect without `{needs}`: {fix}"),
            );
        }
    }
    let at_most: &[(&str, &str, &str)] = &[
        (
            "min_tasks",
            "max_tasks",
            "the pool cannot keep more idle workers than it may run",
        ),
        (
            "congestion_threshold",
            "max_background",
            "the kernel never queues more background requests than `max_background`",
        ),
    ];
    for (small, large, why) in at_most {
        let index = |name: &str| options.settings.iter().position(|s| s.def.name == name);
        if let (Some(i), Some(j)) = (index(small), index(large))
            && let (Some(lo), Some(hi)) = (options.int(small), options.int(large))
            && lo > hi
        {
            let (first, last) = ordered(options, i, j);
            cx.error_between(
                first.span,
                last.value_span,
                format!("`{small} = {lo}` is more than `{large} = {hi}`: {why}"),
            );
        }
    }
    // The default `max_tasks` is 99: a larger `min_tasks` alone would silently raise it.
    if options.get("max_tasks").is_none()
        && let (Some(s), Some(min)) = (options.get("min_tasks"), options.int("min_tasks"))
        && min > 99
    {
        cx.error_at(
            s.value_span,
            format!("`min_tasks = {min}` is more than the default `max_tasks` (99): set `max_tasks` as well"),
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
            s.value_span,
            format!(
                "invalid `subtype` \"{}\": the mount table lists it as the filesystem type \
                 `fuse.<subtype>`, so use only letters, digits, `_`, `-` and `.`",
                v.escape_debug()
            ),
        );
    }
    if let Some(s) = options.get("fsname")
        && let Value::Str(v) = &s.value
        && (v.is_empty() || v.contains('\0'))
    {
        cx.error_at(
            s.value_span,
            "`fsname` must be a non-empty string without NUL bytes",
        );
    }
}

/// The settings at `i` and `j`, in the order they were written.
fn ordered(options: &Options, i: usize, j: usize) -> (&Setting, &Setting) {
    (&options.settings[i.min(j)], &options.settings[i.max(j)])
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
