//! Path mode and blocking handlers: `#[fusegen::handlers(paths)]`,
//! `#[fusegen::handlers(blocking)]` and `#[fusegen::handlers(paths, blocking)]`.
//!
//! A [`Mode`] says which table a block's handlers come from and how they are written; the
//! checks of `handlers.rs` take it, so that every inode-mode check holds in path mode with the
//! same messages. This module adds what only concerns modes: a handler written for the other
//! mode, and inode-level operations that have no path-level handler.

pub mod expand;
mod table;

use syn::ImplItemFn;

use crate::ctxt::Ctxt;
use crate::ops::{self, Op};
use crate::types::normalize;

/// How a handlers block is written.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Mode {
    /// Handlers take paths (`fusegen::paths::PathOperations`), not inodes.
    pub paths: bool,
    /// Handlers are plain `fn`s run on tokio's blocking pool.
    pub blocking: bool,
}

impl Mode {
    /// The operations a block of this mode may implement.
    pub fn ops(self) -> &'static [Op] {
        if self.paths {
            table::PATH_OPS
        } else {
            ops::OPS
        }
    }

    /// The operation called `name` in this mode.
    pub fn find(self, name: &str) -> Option<&'static Op> {
        self.ops().iter().find(|op| op.name == name)
    }

    /// The signature as the user writes it in this mode.
    pub fn signature(self, op: &Op) -> String {
        let signature = ops::signature(op);
        if self.blocking {
            signature.replacen("async fn", "fn", 1)
        } else {
            signature
        }
    }

    /// The attribute that puts a block in this mode, for messages.
    pub fn attribute(self) -> &'static str {
        match (self.paths, self.blocking) {
            (false, false) => "#[fusegen::handlers]",
            (false, true) => "#[fusegen::handlers(blocking)]",
            (true, false) => "#[fusegen::handlers(paths)]",
            (true, true) => "#[fusegen::handlers(paths, blocking)]",
        }
    }

    /// `path mode (`#[fusegen::handlers(paths)]`)`, for messages.
    fn described(self) -> String {
        let name = if self.paths {
            "path mode"
        } else {
            "inode mode"
        };
        format!("{name} (`{}`)", self.attribute())
    }

    /// The names-from-elsewhere hints that lead to an operation of this mode.
    pub fn hints(self) -> Vec<(&'static str, &'static str)> {
        ops::HINTS
            .iter()
            .copied()
            .filter(|(_, hint)| {
                hint.split('`')
                    .skip(1)
                    .step_by(2)
                    .any(|name| self.find(name).is_some())
            })
            .collect()
    }

    /// What to add to "handler `x` must be an `async fn`" in this mode.
    pub fn not_async_hint(self) -> &'static str {
        if self.paths {
            " (or mark the block `#[fusegen::handlers(paths, blocking)]` to run plain `fn` \
             handlers on tokio's blocking pool)"
        } else {
            " (or mark the block `#[fusegen::handlers(blocking)]` to run plain `fn` handlers on \
             tokio's blocking pool)"
        }
    }
}

/// A method of a path-mode block named after an inode-level operation that has no path-level
/// handler (`lookup`, `forget`, the locks, …), when its parameters fit that operation: one
/// error saying which mode the block is in. Returns whether it reported.
pub fn report_inode_only(cx: &Ctxt, mode: Mode, f: &ImplItemFn) -> bool {
    let name = f.sig.ident.to_string();
    if !mode.paths {
        return false;
    }
    let Some(op) = ops::find(&name) else {
        return false;
    };
    if !crate::handlers::fits(op, &f.sig) {
        return false;
    }
    cx.error_spanned_by(
        &f.sig.ident,
        format!(
            "`{name}` is an inode-level handler, but this block is in {}: {}",
            mode.described(),
            table::why_inode_only(&name)
        ),
    );
    true
}

/// A handler whose parameters are those of the other mode (an `Inode` in a path block, a
/// `&Path` in an inode block): the one error for its signature.
pub fn wrong_mode(mode: Mode, op: &Op, params: &[&syn::PatType]) -> Option<String> {
    let param = if mode.paths {
        // No path-level handler takes an inode.
        params.iter().find(|p| normalize(&p.ty) == "Inode")?
    } else {
        // A path where the inode (or parent) goes; `&Path` for a name is a plain type error.
        let first = params.first()?;
        let is_path = matches!(
            normalize(&first.ty).as_str(),
            "&Path" | "PathBuf" | "&PathBuf"
        );
        let wants_inode = op.params.first().is_some_and(|p| p.ty == "Inode");
        if !(is_path && wants_inode) {
            return None;
        }
        first
    };
    let written = format!(
        "{}: {}",
        quote::ToTokens::to_token_stream(&param.pat),
        normalize(&param.ty)
    );
    let expected = mode.signature(op);
    let name = op.name;
    Some(if mode.paths {
        format!(
            "handler `{name}` has an inode-level signature (`{written}`), but this block is in {}, \
             where handlers take paths: write `{expected}`",
            mode.described()
        )
    } else {
        format!(
            "handler `{name}` has a path-level signature (`{written}`), but this block is in {}: \
             write `{expected}`, or make the block `#[fusegen::handlers(paths)]` to write every \
             handler with paths",
            mode.described()
        )
    })
}

/// The error for a handler whose `async` does not match the block: `None` when it matches.
pub fn asyncness_problem(mode: Mode, op: &Op, sig: &syn::Signature) -> Option<String> {
    let name = op.name;
    let expected = mode.signature(op);
    match (mode.blocking, sig.asyncness.is_some()) {
        (false, false) => Some(format!(
            "handler `{name}` must be an `async fn`: write `{expected}`{}",
            mode.not_async_hint()
        )),
        (true, true) => Some(format!(
            "handler `{name}` is `async`, but this block is blocking (`{}`): its handlers are \
             plain `fn`s, each run on tokio's blocking pool; write `{expected}`",
            mode.attribute()
        )),
        _ => None,
    }
}

/// Whether `f` is checked as a possible misspelled handler: an `async fn`, or any `fn` in a
/// blocking block.
pub fn may_be_handler(mode: Mode, f: &ImplItemFn) -> bool {
    f.sig.asyncness.is_some() || mode.blocking
}

/// Why a written type is not the expected path-level one.
pub fn type_hint(param: &str, want: &str, got: &str) -> Option<String> {
    match (want, got) {
        ("&Path", "&str" | "String" | "&String" | "&OsStr" | "PathBuf" | "&PathBuf") => {
            Some(format!(
                "the path is borrowed from the runtime and need not be UTF-8; call \
                 `{param}.to_str()` where you need text"
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: Mode = Mode {
        paths: true,
        blocking: false,
    };

    #[test]
    fn path_mode_has_its_own_table() {
        assert!(PATHS.find("lookup").is_none());
        assert!(PATHS.find("getattr").is_some());
        assert!(Mode::default().find("lookup").is_some());
        // Every path-level operation is also an inode-level one, under the same name.
        for op in PATHS.ops() {
            assert!(ops::find(op.name).is_some(), "{}", op.name);
        }
    }

    #[test]
    fn blocking_signatures_have_no_async() {
        let blocking = Mode {
            paths: true,
            blocking: true,
        };
        let op = blocking.find("unlink").expect("unlink");
        assert_eq!(
            blocking.signature(op),
            "fn unlink(&self, path: &Path, ctx: &RequestContext) -> Result<()>"
        );
    }

    fn wrong_mode_of(mode: Mode, src: &str) -> Option<String> {
        let f: syn::TraitItemFn = syn::parse_str(&format!("{src};")).expect("signature");
        let params: Vec<&syn::PatType> = f
            .sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(t) => Some(t),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let op = mode.find(&f.sig.ident.to_string()).expect("operation");
        wrong_mode(mode, op, &params)
    }

    #[test]
    fn signatures_of_the_other_mode_are_recognised() {
        let inodes = Mode::default();
        assert!(
            wrong_mode_of(
                PATHS,
                "async fn getattr(&self, ino: Inode, fh: Option<FileHandle>)"
            )
            .is_some()
        );
        assert!(
            wrong_mode_of(
                PATHS,
                "async fn getattr(&self, p: &Path, fh: Option<FileHandle>)"
            )
            .is_none()
        );
        assert!(
            wrong_mode_of(
                inodes,
                "async fn getattr(&self, p: &Path, fh: Option<FileHandle>)"
            )
            .is_some()
        );
        // A `&Path` where a name goes is a type error of its own, not a mode mix-up.
        assert!(
            wrong_mode_of(inodes, "async fn lookup(&self, parent: Inode, name: &Path)").is_none()
        );
    }

    #[test]
    fn hints_lead_to_operations_of_the_mode() {
        let hints = PATHS.hints();
        assert!(hints.iter().any(|(from, _)| *from == "read_dir"));
        assert!(!hints.iter().any(|(from, _)| *from == "batch_forget"));
    }
}
