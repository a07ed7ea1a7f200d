//! The `-o` grammar: `MountOptions::parse` and `MountOptions::set`, splitting lists and
//! reporting bad text. Which names exist, what values they take, "did you mean" and the rules
//! between options come from the shared table (`fusegen-options`), which `#[fuse(...)]` reads
//! too; `fields.rs` maps its options to fields.

use fusegen_options::suggest::{self, Suggestion};
use fusegen_options::{DashO, Form, IGNORED, OPTIONS, Side, Value, find_dash_o, values};

use super::MountError;
use super::MountOptions;

impl MountOptions {
    /// Parses libfuse-style options on top of [`MountOptions::default`].
    ///
    /// Each item is `name` or `name=value`, or a comma-separated list of those (`"ro,fsname=x"`);
    /// a comma or backslash inside a value is written `\,` or `\\`, as for libfuse. Do not
    /// pass the `-o` itself. When options repeat or contradict (`ro,rw`), the last one wins,
    /// as in libfuse; only real conflicts (`allow_other` with `allow_root`) are errors.
    ///
    /// ```
    /// use fusegen::MountOptions;
    /// use std::time::Duration;
    ///
    /// let o = MountOptions::parse(["ro,rw", "attr_timeout=0.5", "fsname=a\\,b"])?;
    /// assert!(!o.read_only);
    /// assert_eq!(o.attr_timeout, Some(Duration::from_millis(500)));
    /// assert_eq!(o.fsname.as_deref(), Some("a,b"));
    ///
    /// let err = MountOptions::parse(["alow_other"]).unwrap_err();
    /// assert!(err.to_string().contains("did you mean `allow_other`?"));
    /// # Ok::<(), fusegen::MountError>(())
    /// ```
    pub fn parse<I, S>(items: I) -> Result<MountOptions, MountError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut options = MountOptions::default();
        for item in items {
            options.apply_list(item.as_ref())?;
        }
        options.validate()?;
        Ok(options)
    }

    /// Applies one more item (same grammar as [`parse`](Self::parse)) on top of `self`, e.g.
    /// to let the command line override a program's defaults. On error `self` is unchanged.
    ///
    /// ```
    /// use fusegen::MountOptions;
    ///
    /// let mut o = MountOptions::default();
    /// o.set("ro")?.set("fsname=mine,noforget")?;
    /// assert!(o.read_only && o.noforget);
    /// assert!(o.set("ro=1").is_err());
    /// assert!(o.read_only);
    /// # Ok::<(), fusegen::MountError>(())
    /// ```
    pub fn set(&mut self, item: &str) -> Result<&mut Self, MountError> {
        let mut next = self.clone();
        next.apply_list(item)?;
        next.validate()?;
        *self = next;
        Ok(self)
    }

    fn apply_list(&mut self, list: &str) -> Result<(), MountError> {
        for piece in split_list(list) {
            let piece = piece.trim();
            if !piece.is_empty() {
                self.apply_one(piece)?;
            }
        }
        Ok(())
    }

    fn apply_one(&mut self, item: &str) -> Result<(), MountError> {
        let (name, value) = match item.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (item, None),
        };
        if is_userspace_only(name, value) {
            tracing::debug!(
                option = item,
                "ignoring an option meant for mount(8) or systemd"
            );
            return Ok(());
        }
        let Some((def, form)) = find_dash_o(name) else {
            return Err(MountError::invalid(item, unknown_reason(name)));
        };
        let value = match (form, value, def.dash_o) {
            (Form::On | Form::Off, None, _) => Value::Bool(form == Form::On),
            (Form::On | Form::Off, Some(_), _) => {
                return Err(MountError::invalid(
                    item,
                    format!("`{name}` is a flag and takes no value; write `{name}` alone"),
                ));
            }
            (Form::Value, None | Some(""), DashO::Value { placeholder, .. }) => {
                return Err(MountError::invalid(
                    item,
                    format!("`{name}` needs a value; write `{name}={placeholder}`"),
                ));
            }
            (Form::Value, v, _) => values::from_text(def, v.unwrap_or_default())
                .map_err(|reason| MountError::invalid(item, format!("`{name}` {reason}")))?,
        };
        self.set_value(def.id, value)
            .map_err(|reason| MountError::invalid(item, format!("`{name}` {reason}")))
    }
}

/// Whether `name[=value]` is for `mount(8)` or systemd only: one of the table's `IGNORED` (as
/// a flag), `comment=...`, or any `x-...` (`x-systemd.automount`, `x-gvfs-show`, ...).
fn is_userspace_only(name: &str, value: Option<&str>) -> bool {
    (value.is_none() && IGNORED.contains(&name))
        || (name == "comment" && value.is_some())
        || name.starts_with("x-")
}

/// Splits at commas not escaped by a backslash, and removes the escapes (`\,` → `,`,
/// `\\` → `\`), as libfuse's option parser does.
fn split_list(list: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut chars = list.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => push_char(&mut pieces, escaped),
                None => push_char(&mut pieces, '\\'),
            },
            ',' => pieces.push(String::new()),
            c => push_char(&mut pieces, c),
        }
    }
    pieces
}

fn push_char(pieces: &mut [String], c: char) {
    if let Some(last) = pieces.last_mut() {
        last.push(c);
    }
}

fn unknown_reason(name: &str) -> String {
    if name.starts_with("-o") {
        return "pass the option list without the leading `-o`".into();
    }
    let valid = OPTIONS
        .iter()
        .flat_map(|o| match o.dash_o {
            DashO::None => vec![],
            DashO::Flag { on, off } => [Some(on), off]
                .into_iter()
                .flatten()
                .map(|n| format!("`{n}`"))
                .collect(),
            DashO::Value { name, placeholder } => vec![format!("`{name}={placeholder}`")],
        })
        .collect::<Vec<_>>()
        .join(", ");
    match suggest::option(name, Side::DashO) {
        Some(advice @ Suggestion::Advice(_)) => advice.after("unknown option"),
        Some(meant) => format!("{} valid options: {valid}", meant.after("unknown option")),
        None => format!("unknown option; valid options: {valid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mount::{Atime, MountMethod};
    use std::time::Duration;

    fn parse(s: &str) -> MountOptions {
        match MountOptions::parse([s]) {
            Ok(o) => o,
            Err(e) => panic!("`{s}` should parse: {e}"),
        }
    }

    fn error(s: &str) -> String {
        match MountOptions::parse([s]) {
            Ok(o) => panic!("`{s}` should fail, got {o:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn every_flag_sets_its_field() {
        let o = parse(
            "allow_other,ro,nonempty,auto_unmount,debug,use_ino,readdir_ino,direct_io,\
             kernel_cache,auto_cache,noforget,intr,writeback_cache,export_support,\
             cache_symlinks,acl,atomic_o_trunc",
        );
        assert!(o.export_support && o.cache_symlinks && o.acl && o.atomic_o_trunc);
        assert!(o.default_permissions && o.allow_other && o.read_only && o.nonempty);
        assert!(o.auto_unmount && o.debug && o.use_ino && o.readdir_ino && o.direct_io);
        assert!(o.kernel_cache && o.auto_cache && o.noforget && o.intr && o.writeback_cache);
        assert!(parse("allow_root").allow_root);
        assert!(!parse("no_default_permissions").default_permissions);
        assert!(parse("no_default_permissions,default_permissions").default_permissions);
        assert!(!parse("auto_cache,noauto_cache").auto_cache);
        assert!(!parse("ro,rw").read_only);
        assert!(parse("rw,ro").read_only);
    }

    #[test]
    fn every_valued_option_sets_its_field() {
        let o = parse(
            "fsname=myfs,subtype=my.fs-1_x,max_read=131072,blksize=4096,umask=022,uid=1000,\
             gid=100,entry_timeout=1,attr_timeout=0.5,ac_attr_timeout=2.25,negative_timeout=0,\
             intr_signal=10,max_write=1048576,max_readahead=65536,max_background=64,\
             congestion_threshold=48,mount_method=fusermount",
        );
        assert_eq!(o.fsname.as_deref(), Some("myfs"));
        assert_eq!(o.subtype.as_deref(), Some("my.fs-1_x"));
        assert_eq!((o.max_read, o.blksize), (Some(131072), Some(4096)));
        assert_eq!((o.umask, o.uid, o.gid), (Some(0o22), Some(1000), Some(100)));
        assert_eq!(o.entry_timeout, Some(Duration::from_secs(1)));
        assert_eq!(o.attr_timeout, Some(Duration::from_millis(500)));
        assert_eq!(o.ac_attr_timeout, Some(Duration::from_millis(2250)));
        assert_eq!(o.negative_timeout, Some(Duration::ZERO));
        assert_eq!(o.intr_signal, Some(10));
        assert_eq!((o.max_write, o.max_readahead), (Some(1048576), Some(65536)));
        assert_eq!(
            (o.max_background, o.congestion_threshold),
            (Some(64), Some(48))
        );
        assert_eq!(o.method, MountMethod::Fusermount);
        assert_eq!(parse("mount_method=direct").method, MountMethod::Direct);
        assert_eq!(
            parse("mount_method=direct,mount_method=auto").method,
            MountMethod::Auto
        );
        assert_eq!(
            parse("mount_method=fusermount3").method,
            MountMethod::Fusermount
        );
    }

    #[test]
    fn items_and_comma_lists_combine() {
        let o = MountOptions::parse(["ro", "fsname=a,allow_other", " debug ", "", "intr,"]);
        let o = o.unwrap_or_else(|e| panic!("{e}"));
        assert!(o.read_only && o.allow_other && o.debug && o.intr);
        assert_eq!(o.fsname.as_deref(), Some("a"));
        assert_eq!(
            MountOptions::parse(Vec::<String>::new()).ok(),
            Some(MountOptions::default())
        );
        assert_eq!(parse("fsname=a,fsname=b").fsname.as_deref(), Some("b"));
    }

    #[test]
    fn escapes_in_values() {
        assert_eq!(
            parse(r"fsname=a\,b\\c,ro").fsname.as_deref(),
            Some(r"a,b\c")
        );
        assert_eq!(parse(r"fsname=x\").fsname.as_deref(), Some(r"x\"));
        assert_eq!(
            parse("fsname=has space/and=equals").fsname.as_deref(),
            Some("has space/and=equals")
        );
    }

    #[test]
    fn seconds_accept_decimals_and_reject_the_rest() {
        assert_eq!(
            parse("entry_timeout=1e1").entry_timeout,
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse("entry_timeout=.25").entry_timeout,
            Some(Duration::from_millis(250))
        );
        for bad in ["-1", "NaN", "inf", "-0.5", "abc", "1e400", "1s"] {
            let msg = error(&format!("attr_timeout={bad}"));
            assert!(
                msg.contains("expects a non-negative number of seconds"),
                "{bad}: {msg}"
            );
            assert!(msg.contains(&format!("`attr_timeout={bad}`")), "{msg}");
        }
    }

    #[test]
    fn numbers_are_checked() {
        assert!(
            error("max_read=abc")
                .contains("`max_read` expects a whole number from 4096 to 4294967295, got `abc`")
        );
        assert!(error("max_read=-1").contains("whole number"));
        assert!(error("uid=4294967296").contains("must be from 0 to 4294967295"));
        assert!(error("max_background=70000").contains("must be from 1 to 65535, found 70000"));
        assert!(error("max_background=0").contains("must be from 1 to 65535, found 0"));
        assert!(error("max_write=100").contains("must be from 4096 to 16777216"));
        assert!(error("congestion_threshold=x").contains("from 1 to 65535"));
        assert!(error("umask=089").contains("octal mask"));
        assert!(error("umask=17777").contains("the largest mask is 0o7777"));
        assert!(error("intr_signal=0").contains("from 1 to 64"));
        assert!(error("intr_signal=65").contains("from 1 to 64"));
        assert!(error("intr_signal=USR1").contains("whole number from 1 to 64"));
        assert!(error("blksize=1000").contains("power of two"));
        assert!(error("blksize=256").contains("from 512"));
        assert!(error("mount_method=magic").contains("expects `auto`, `direct` or `fusermount`"));
        assert!(
            error("transport=urin").contains("did you mean `uring`?")
                || error("transport=io_urin").contains("did you mean `io_uring`?")
        );
    }

    #[test]
    fn flag_with_value_and_missing_value() {
        assert_eq!(
            error("ro=1"),
            "invalid mount option `ro=1`: `ro` is a flag and takes no value; write `ro` alone"
        );
        assert_eq!(
            error("fsname"),
            "invalid mount option `fsname`: `fsname` needs a value; write `fsname=NAME`"
        );
        assert!(error("fsname=").contains("needs a value"));
        assert!(error("attr_timeout").contains("write `attr_timeout=SECS`"));
    }

    #[test]
    fn strings_are_checked() {
        assert!(error("fsname=a\0b").contains("NUL"));
        assert!(error("subtype=a/b").contains("'/' is not allowed"));
        assert!(error("subtype=").contains("needs a value"));
    }

    #[test]
    fn unknown_options_suggest_and_list() {
        let msg = error("alow_other");
        assert!(
            msg.starts_with(
                "invalid mount option `alow_other`: unknown option, did you mean `allow_other`?"
            ),
            "{msg}"
        );
        assert!(
            msg.contains("`fsname=NAME`") && msg.contains("`mount_method=auto|direct|fusermount`"),
            "{msg}"
        );
        assert!(error("RO").contains("did you mean `ro`?"));
        assert!(error("atr_timeout=1").contains("did you mean `attr_timeout`?"));
        let far = error("frobnicate");
        assert!(
            far.contains("unknown option; valid options: `fsname=NAME`"),
            "{far}"
        );
        assert!(!far.contains("did you mean"));
        assert!(parse("stats").stats);
        assert!(error("-oro").contains("without the leading `-o`"));
        assert!(error("big_writes").contains("FUSE 3 always allows big writes"));
    }

    #[test]
    fn generic_mount_flags_set_their_fields() {
        let d = MountOptions::default();
        assert!(!d.suid && !d.dev && !d.noexec && !d.sync && !d.dirsync);
        assert!(!d.nodiratime && !d.lazytime && d.atime == Atime::Relatime);
        let o = parse("suid,dev,noexec,sync,dirsync,noatime,nodiratime,lazytime");
        assert!(o.suid && o.dev && o.noexec && o.sync && o.dirsync && o.nodiratime && o.lazytime);
        assert_eq!(o.atime, Atime::Noatime);
        let undone = parse(
            "suid,dev,noexec,sync,nodiratime,lazytime,nosuid,nodev,exec,async,diratime,nolazytime",
        );
        assert_eq!(undone, MountOptions::default());
        assert_eq!(parse("noatime,atime").atime, Atime::Relatime);
        assert_eq!(parse("strictatime,atime").atime, Atime::Strictatime);
        assert_eq!(parse("strictatime,relatime").atime, Atime::Relatime);
        assert_eq!(parse("relatime,strictatime").atime, Atime::Strictatime);
        assert_eq!(parse("noatime,strictatime").atime, Atime::Strictatime);
    }

    #[test]
    fn options_for_mount8_and_systemd_are_accepted_and_ignored() {
        let all = "defaults,_netdev,nofail,auto,noauto,user,users,nouser,owner,group,\
                   x-systemd.automount,x-systemd.requires=a.service,x-systemd.mount-timeout=30,\
                   x-gvfs-show,comment=systemd.automount,comment=";
        assert_eq!(parse(all), MountOptions::default());
        // Through `set` as well, mixed with real options.
        let mut o = MountOptions::default();
        o.set("rw,noatime,allow_other,_netdev,dev,suid").unwrap();
        assert!(o.allow_other && o.dev && o.suid && o.atime == Atime::Noatime);
        // Only the exact names: a value on a flag-like one, or a near miss, is still an error.
        assert!(error("nofail=1").contains("unknown option"));
        assert!(error("_netdevv").contains("did you mean `_netdev`?"));
        assert!(error("comment").contains("unknown option"));
    }

    #[test]
    fn conflicts_are_errors() {
        assert!(error("allow_other,allow_root").contains("cannot be used together"));
        assert!(error("auto_unmount,mount_method=direct").contains(
            "`auto_unmount` and `mount_method=direct` cannot be used together: `auto_unmount` needs `fusermount3`"
        ));
    }

    #[test]
    fn set_overrides_and_is_atomic() {
        let mut o = parse("ro,fsname=a");
        o.set("rw")
            .and_then(|o| o.set("fsname=b,debug"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!o.read_only && o.debug);
        assert_eq!(o.fsname.as_deref(), Some("b"));
        let before = o.clone();
        assert!(o.set("allow_other,bogus").is_err());
        assert!(o.set("allow_other").is_ok());
        assert!(o.set("allow_root").is_err(), "conflict with allow_other");
        assert!(o.allow_other && !o.allow_root);
        assert_eq!(
            MountOptions {
                allow_other: true,
                ..before
            },
            o
        );
    }
}
