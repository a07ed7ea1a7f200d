//! Type comparison for handler signatures: a written type reduced to the short form the
//! operation table uses (`fusegen::Inode` → `Inode`, `&'a std::ffi::OsStr` → `&OsStr`,
//! `ReaddirReply<'_>` → `ReaddirReply`), so signatures compare however users import things.

use quote::ToTokens;
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
