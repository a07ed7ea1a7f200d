//! Type comparison for handler signatures. A written type made only of names whose meaning
//! the macro knows (the operation table's types, the standard ones: [`comparable`]) is reduced
//! to the short form the table uses (`fusegen::Inode` → `Inode`, `&'a std::ffi::OsStr` →
//! `&OsStr`) and compared as text, which gives the precise messages (`u64` for an `Inode`:
//! "inode numbers are wrapped in `Inode`"). A type that names anything else (an alias such as
//! `type Ino = Inode;`, a renamed import) is left to rustc: the generated call passes the
//! argument through [`checked_argument`], whose error, if the types differ, is one message on
//! the user's type.

use std::sync::OnceLock;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, Type};

/// The short form of a type.
pub fn normalize(ty: &Type) -> String {
    match ty {
        Type::Reference(r) => {
            let m = if r.mutability.is_some() { "mut " } else { "" };
            format!("&{m}{}", normalize(&r.elem))
        }
        Type::Path(p) if p.qself.is_none() => match p.path.segments.last() {
            Some(seg) => {
                let args = generic_args(&seg.arguments);
                if args.is_empty() {
                    seg.ident.to_string()
                } else {
                    format!("{}<{}>", seg.ident, args.join(", "))
                }
            }
            None => String::new(),
        },
        Type::Slice(s) => format!("[{}]", normalize(&s.elem)),
        Type::Tuple(t) => {
            let parts: Vec<String> = t.elems.iter().map(normalize).collect();
            format!("({})", parts.join(", "))
        }
        Type::Paren(p) => normalize(&p.elem),
        Type::Group(g) => normalize(&g.elem),
        other => other.to_token_stream().to_string(),
    }
}

fn generic_args(args: &PathArguments) -> Vec<String> {
    match args {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(t) => Some(normalize(t)),
                GenericArgument::Lifetime(_) => None,
                other => Some(other.to_token_stream().to_string()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Names the macro knows the meaning of besides the table's types: they are not expected to
/// be redefined, so a type made of them is compared as text.
const STANDARD: &[&str] = &[
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "bool",
    "char",
    "str",
    "String",
    "Vec",
    "Option",
    "Result",
    "Box",
    "Path",
    "PathBuf",
    "OsStr",
    "OsString",
    "Arc",
    "Rc",
    "Cow",
    "Bytes",
    "BytesMut",
    "Self",
    "RequestContext",
    "Duration",
    "SystemTime",
];

/// Every name of the operation tables' types, and [`STANDARD`].
fn known_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = STANDARD.iter().map(ToString::to_string).collect();
        let path_level = crate::paths::Mode {
            paths: true,
            blocking: false,
        };
        for op in crate::ops::OPS.iter().chain(path_level.ops()) {
            let mut types: Vec<&str> = op.params.iter().map(|p| p.ty).collect();
            if let crate::ops::Returns::Result { ty, also, .. } = op.returns {
                types.push(ty);
                types.extend(also);
            }
            types.extend(
                crate::ops::ALTERNATIVES
                    .iter()
                    .filter(|a| a.op == op.name)
                    .map(|a| a.ty),
            );
            for ty in types {
                if let Ok(ty) = syn::parse_str::<Type>(ty) {
                    names_in(&ty, &mut names);
                }
            }
        }
        names.sort();
        names.dedup();
        names
    })
}

/// Whether `ty` can be compared as text: every name in it is one the macro knows (so `Ino`,
/// an alias, and `Node`, a renamed import, are not; rustc compares those). A qualified path
/// (`<T as Trait>::Out`) is not comparable either.
pub fn comparable(ty: &Type) -> bool {
    let mut names = Vec::new();
    if !names_in(ty, &mut names) {
        return false;
    }
    let known = known_names();
    names.iter().all(|n| known.binary_search(n).is_ok())
}

/// Pushes the names `normalize` keeps (the last segment of each path and of its type
/// arguments); false for a qualified path.
fn names_in(ty: &Type, names: &mut Vec<String>) -> bool {
    match ty {
        Type::Reference(r) => names_in(&r.elem, names),
        Type::Path(p) if p.qself.is_none() => {
            let Some(seg) = p.path.segments.last() else {
                return true;
            };
            names.push(seg.ident.to_string());
            match &seg.arguments {
                PathArguments::AngleBracketed(a) => a.args.iter().all(|arg| match arg {
                    GenericArgument::Type(t) => names_in(t, names),
                    _ => true,
                }),
                _ => true,
            }
        }
        Type::Path(_) => false,
        Type::Slice(s) => names_in(&s.elem, names),
        Type::Array(a) => names_in(&a.elem, names),
        Type::Tuple(t) => t.elems.iter().all(|e| names_in(e, names)),
        Type::Paren(p) => names_in(&p.elem, names),
        Type::Group(g) => names_in(&g.elem, names),
        // Trait objects, `impl Trait`, pointers, `fn` types: never a table type, and what
        // the macro says about them is right whatever they name.
        _ => true,
    }
}

/// A parameter whose written type rustc compares with the table's.
pub struct RustcCheck {
    /// Its position after `&self` (the trailing `ctx` is the table's parameter count).
    pub index: usize,
    /// As written.
    pub ty: Type,
    /// The table's type, fully qualified (`::fusegen::Inode`, `&::std::ffi::OsStr`).
    pub want: &'static str,
    /// What rustc says when the two differ (`{Self}` is the written type as rustc resolves it),
    /// with its label and note.
    pub message: String,
    pub label: String,
    pub note: String,
}

impl RustcCheck {
    /// The check of parameter `index` when `ty` is not comparable as text.
    /// `what` says which parameter must be what (`` parameter `ino` of `getattr` must be
    /// `Inode` ``), `expected` is the table's type as users write it, `fix` the note.
    pub fn new(
        index: usize,
        ty: &Type,
        want: &'static str,
        (what, expected): (&str, &str),
        fix: &str,
    ) -> RustcCheck {
        let written = escape(&normalize(ty));
        RustcCheck {
            index,
            ty: ty.clone(),
            want,
            message: format!("{}, found `{written}`, which is `{{Self}}`", escape(what)),
            label: format!("expected `{}`", escape(expected)),
            note: escape(fix),
        }
    }
}

/// `text` with braces doubled, for `#[diagnostic::on_unimplemented]`.
fn escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

/// The argument `arg` of the handler's parameter `index`, as the generated call passes it:
/// unchanged, or, for a parameter in `checks`, through an identity conversion that holds only
/// when the written type is the table's. Spanned on the written type, so that a wrong type is
/// one error there, in the macro's words; the call itself then type-checks either way.
pub fn checked_argument(
    checks: &[RustcCheck],
    index: usize,
    arg: TokenStream,
    krate: &TokenStream,
) -> TokenStream {
    let Some(check) = checks.iter().find(|c| c.index == index) else {
        return arg;
    };
    let ty = &check.ty;
    let want = crate::expand::table_type(check.want, krate);
    let (message, label, note) = (&check.message, &check.label, &check.note);
    let convert = quote_spanned! {ty.span()=>
        <#ty as HandlerParameterIs<#want>>::__fusegen_same
    };
    quote! {{
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        trait HandlerParameterIs<T> {
            fn __fusegen_same(value: T) -> Self;
        }
        #[diagnostic::do_not_recommend]
        impl<T> HandlerParameterIs<T> for T {
            fn __fusegen_same(value: T) -> T {
                value
            }
        }
        #convert(#arg)
    }}
}

/// For `Result<T>` or `Result<T, E>` (any path ending in `Result`), the short form of `T`.
pub fn result_ok_type(ty: &Type) -> Option<String> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(a) = &seg.arguments else {
        return None;
    };
    a.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(t) => Some(normalize(t)),
        _ => None,
    })
}

/// `E` of a written `Result<T, E>` (none for the one-argument `fusegen::Result<T>`).
pub fn result_err_type(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(a) = &seg.arguments else {
        return None;
    };
    a.args
        .iter()
        .filter_map(|arg| match arg {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .nth(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(src: &str) -> String {
        normalize(&syn::parse_str(src).unwrap())
    }

    #[test]
    fn paths_and_lifetimes_are_ignored() {
        assert_eq!(n("fusegen::Inode"), "Inode");
        assert_eq!(n("&'a std::ffi::OsStr"), "&OsStr");
        assert_eq!(n("&mut fusegen::ReaddirReply<'_>"), "&mut ReaddirReply");
        assert_eq!(n("Option<fusegen::FileHandle>"), "Option<FileHandle>");
        assert_eq!(
            n("(FileInfo, fusegen::EntryAttributes)"),
            "(FileInfo, EntryAttributes)"
        );
        assert_eq!(n("&[u8]"), "&[u8]");
    }

    #[test]
    fn aliases_and_renamed_imports_are_left_to_rustc() {
        let comparable = |src| comparable(&syn::parse_str(src).unwrap());
        assert!(comparable("fusegen::Inode"));
        assert!(comparable("&'a std::ffi::OsStr"));
        assert!(comparable("Option<FileHandle>"));
        assert!(comparable("u64") && comparable("&str") && comparable("Vec<u8>"));
        assert!(!comparable("Ino"));
        assert!(!comparable("Option<Fh>"));
        assert!(!comparable("&Name"));
        assert!(!comparable("<T as Trait>::Out"));
    }

    #[test]
    fn result_ok_type_is_found() {
        let ty = |s| syn::parse_str::<Type>(s).unwrap();
        assert_eq!(
            result_ok_type(&ty("fusegen::Result<EntryAttributes>")).as_deref(),
            Some("EntryAttributes")
        );
        assert_eq!(
            result_ok_type(&ty("Result<(), Errno>")).as_deref(),
            Some("()")
        );
        assert_eq!(result_ok_type(&ty("Option<u8>")), None);
    }
}
