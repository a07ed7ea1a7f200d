//! The fields of [`MountOptions`] as options of the shared table (`fusegen-options`): setting
//! one from a value read off `-o` text, and reading each back for the table's rules and value
//! checks. Both matches name every option, so a new row does not compile until it has a field.

use std::time::Duration;

use fusegen_options::rules::Lookup;
use fusegen_options::{Choice, Kind, Opt, Value, def, values};

use super::{Atime, MountMethod, MountOptions, Transport};

impl MountOptions {
    /// Sets option `opt` to `value` (already checked against the table).
    pub(super) fn set_value(&mut self, opt: Opt, value: Value) -> Result<(), String> {
        let on = matches!(value, Value::Bool(true));
        let text = || string(&value);
        let seconds = || nanos(&value).map(Duration::from_nanos);
        match opt {
            Opt::Fsname => self.fsname = Some(text()?),
            Opt::Subtype => self.subtype = Some(text()?),
            Opt::ReadOnly => self.read_only = on,
            Opt::DefaultPermissions => self.default_permissions = on,
            Opt::AllowOther => self.allow_other = on,
            Opt::AllowRoot => self.allow_root = on,
            Opt::AutoUnmount => self.auto_unmount = on,
            Opt::AttrTimeout => self.attr_timeout = Some(seconds()?),
            Opt::EntryTimeout => self.entry_timeout = Some(seconds()?),
            Opt::NegativeTimeout => self.negative_timeout = Some(seconds()?),
            Opt::AcAttrTimeout => self.ac_attr_timeout = Some(seconds()?),
            Opt::WritebackCache => self.writeback_cache = on,
            Opt::DirectIo => self.direct_io = on,
            Opt::KernelCache => self.kernel_cache = on,
            Opt::AutoCache => self.auto_cache = on,
            Opt::CacheSymlinks => self.cache_symlinks = on,
            Opt::SupportsDotLookup => self.export_support = on,
            Opt::Acl => self.acl = on,
            Opt::AtomicOTrunc => self.atomic_o_trunc = on,
            Opt::Passthrough => self.passthrough = on,
            Opt::HandleKillpriv => self.handle_killpriv = on,
            Opt::MaxStackDepth => self.max_stack_depth = Some(int(&value)?),
            Opt::MaxWrite => self.max_write = Some(int(&value)?),
            Opt::MaxRead => self.max_read = Some(int(&value)?),
            Opt::MaxReadahead => self.max_readahead = Some(int(&value)?),
            Opt::MaxBackground => self.max_background = Some(int(&value)?),
            Opt::CongestionThreshold => self.congestion_threshold = Some(int(&value)?),
            Opt::Blksize => self.blksize = Some(int(&value)?),
            Opt::Umask => self.umask = Some(int(&value)?),
            Opt::Uid => self.uid = Some(int(&value)?),
            Opt::Gid => self.gid = Some(int(&value)?),
            Opt::UseIno => self.use_ino = on,
            Opt::ReaddirIno => self.readdir_ino = on,
            Opt::Noforget => self.noforget = on,
            Opt::Intr => self.intr = on,
            Opt::IntrSignal => self.intr_signal = Some(int(&value)?),
            Opt::Debug => self.debug = on,
            Opt::Nonempty => self.nonempty = on,
            Opt::MountMethod => self.method = mount_method(choice(&value)?)?,
            Opt::Transport => self.transport = Some(transport(choice(&value)?)?),
            Opt::UringQueueDepth => self.uring_queue_depth = Some(int(&value)?),
            Opt::Stats => self.stats = on,
            Opt::Suid => self.suid = on,
            Opt::Dev => self.dev = on,
            Opt::Noexec => self.noexec = on,
            Opt::Sync => self.sync = on,
            Opt::Dirsync => self.dirsync = on,
            Opt::Noatime => self.atime = Atime::Noatime,
            // `atime` undoes `noatime` only, as mount(8) reads it.
            Opt::Atime if self.atime == Atime::Noatime => self.atime = Atime::Relatime,
            Opt::Atime => {}
            Opt::Relatime => self.atime = Atime::Relatime,
            Opt::Strictatime => self.atime = Atime::Strictatime,
            Opt::Nodiratime => self.nodiratime = on,
            Opt::Lazytime => self.lazytime = on,
            Opt::MinTasks | Opt::MaxTasks | Opt::ShutdownGrace | Opt::Crate => {
                return Err("is set in `#[fuse(...)]` or `Workers`, not in mount options".into());
            }
        }
        Ok(())
    }
}

impl Lookup for MountOptions {
    fn value(&self, opt: Opt) -> Option<Value> {
        let flag = |b: bool| Some(Value::Bool(b));
        let int = |v: Option<u32>| v.map(|v| Value::Int(v.into()));
        let small = |v: Option<u16>| v.map(|v| Value::Int(v.into()));
        let secs = |d: Option<Duration>| {
            d.map(|d| Value::Nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)))
        };
        let text = |s: &Option<String>| s.clone().map(Value::Str);
        match opt {
            Opt::Fsname => text(&self.fsname),
            Opt::Subtype => text(&self.subtype),
            Opt::ReadOnly => flag(self.read_only),
            Opt::DefaultPermissions => flag(self.default_permissions),
            Opt::AllowOther => flag(self.allow_other),
            Opt::AllowRoot => flag(self.allow_root),
            Opt::AutoUnmount => flag(self.auto_unmount),
            Opt::AttrTimeout => secs(self.attr_timeout),
            Opt::EntryTimeout => secs(self.entry_timeout),
            Opt::NegativeTimeout => secs(self.negative_timeout),
            Opt::AcAttrTimeout => secs(self.ac_attr_timeout),
            Opt::WritebackCache => flag(self.writeback_cache),
            Opt::DirectIo => flag(self.direct_io),
            Opt::KernelCache => flag(self.kernel_cache),
            Opt::AutoCache => flag(self.auto_cache),
            Opt::CacheSymlinks => flag(self.cache_symlinks),
            Opt::SupportsDotLookup => flag(self.export_support),
            Opt::Acl => flag(self.acl),
            Opt::AtomicOTrunc => flag(self.atomic_o_trunc),
            Opt::Passthrough => flag(self.passthrough),
            Opt::HandleKillpriv => flag(self.handle_killpriv),
            Opt::MaxStackDepth => int(self.max_stack_depth),
            Opt::MaxWrite => int(self.max_write),
            Opt::MaxRead => int(self.max_read),
            Opt::MaxReadahead => int(self.max_readahead),
            Opt::MaxBackground => small(self.max_background),
            Opt::CongestionThreshold => small(self.congestion_threshold),
            Opt::Blksize => int(self.blksize),
            Opt::Umask => int(self.umask),
            Opt::Uid => int(self.uid),
            Opt::Gid => int(self.gid),
            Opt::UseIno => flag(self.use_ino),
            Opt::ReaddirIno => flag(self.readdir_ino),
            Opt::Noforget => flag(self.noforget),
            Opt::Intr => flag(self.intr),
            // A negative number cannot be a signal: shown as 0, which the range refuses.
            Opt::IntrSignal => self
                .intr_signal
                .map(|s| Value::Int(u64::try_from(s).unwrap_or(0))),
            Opt::Debug => flag(self.debug),
            Opt::Nonempty => flag(self.nonempty),
            Opt::MountMethod => named_choice(opt, &self.method.to_string()),
            Opt::Transport => self
                .transport
                .and_then(|t| named_choice(opt, &t.to_string())),
            Opt::UringQueueDepth => small(self.uring_queue_depth),
            Opt::Stats => flag(self.stats),
            Opt::Suid => flag(self.suid),
            Opt::Dev => flag(self.dev),
            Opt::Noexec => flag(self.noexec),
            Opt::Sync => flag(self.sync),
            Opt::Dirsync => flag(self.dirsync),
            Opt::Noatime => flag(self.atime == Atime::Noatime),
            Opt::Atime => flag(self.atime != Atime::Noatime),
            Opt::Relatime => flag(self.atime == Atime::Relatime),
            Opt::Strictatime => flag(self.atime == Atime::Strictatime),
            Opt::Nodiratime => flag(self.nodiratime),
            Opt::Lazytime => flag(self.lazytime),
            Opt::MinTasks | Opt::MaxTasks | Opt::ShutdownGrace | Opt::Crate => None,
        }
    }
}

/// The table's choice of `opt` named `name`.
fn named_choice(opt: Opt, name: &str) -> Option<Value> {
    match def(opt).kind {
        Kind::OneOf { choices, .. } => values::choice(choices, name).map(Value::Choice),
        _ => None,
    }
}

fn mount_method(c: &Choice) -> Result<MountMethod, String> {
    match c.name {
        "auto" => Ok(MountMethod::Auto),
        "direct" => Ok(MountMethod::Direct),
        "fusermount" => Ok(MountMethod::Fusermount),
        other => Err(format!("has no mount method `{other}`")),
    }
}

fn transport(c: &Choice) -> Result<Transport, String> {
    Transport::parse(c.name).ok_or_else(|| format!("has no transport `{}`", c.name))
}

fn string(value: &Value) -> Result<String, String> {
    match value {
        Value::Str(s) => Ok(s.clone()),
        other => Err(format!("expects a string, got {other:?}")),
    }
}

fn nanos(value: &Value) -> Result<u64, String> {
    match value {
        Value::Nanos(n) => Ok(*n),
        other => Err(format!("expects seconds, got {other:?}")),
    }
}

fn choice(value: &Value) -> Result<&'static Choice, String> {
    match value {
        Value::Choice(c) => Ok(c),
        other => Err(format!("expects one of its choices, got {other:?}")),
    }
}

/// An integer of the field's type; the table's ranges fit the fields, so an error here means
/// the two disagree.
fn int<T: TryFrom<u64>>(value: &Value) -> Result<T, String> {
    match value {
        Value::Int(v) => T::try_from(*v).map_err(|_| format!("is out of range, got {v}")),
        other => Err(format!("expects an integer, got {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fusegen_options::OPTIONS;

    /// Every `-o` option set to a value it accepts reads back as that value.
    #[test]
    fn fields_read_back_what_was_set() {
        for o in OPTIONS
            .iter()
            .filter(|o| o.dash_o != fusegen_options::DashO::None)
        {
            let value = match o.kind {
                Kind::Flag => Value::Bool(true),
                Kind::Seconds => Value::Nanos(1_500_000_000),
                Kind::Str | Kind::Path => Value::Str("abc".into()),
                Kind::Int { max, .. } => Value::Int(max),
                Kind::Mode => Value::Int(0o22),
                Kind::OneOf { choices, .. } => Value::Choice(&choices[1]),
            };
            let mut options = MountOptions::default();
            options
                .set_value(o.id, value.clone())
                .unwrap_or_else(|e| panic!("`{}` {e}", o.name));
            assert_eq!(options.value(o.id), Some(value), "`{}`", o.name);
        }
    }
}
