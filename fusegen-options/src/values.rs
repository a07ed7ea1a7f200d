//! Values: the checks every value of an option passes whichever side wrote it (range, mode
//! bits, [`Check`]s), and reading a value from `-o` text. Reasons read after the option's name
//! (`` `max_write` must be from 4096 to 16777216, found 100 ``); the `#[fuse(...)]` side reads
//! its literals itself and checks them here.

use std::time::Duration;

use crate::{Check, Choice, Kind, OptionDef, Value};

/// The largest file mode bits.
pub const MODE_MAX: u64 = 0o7777;

/// Whether `value` is allowed for `def`: its range and its [`Check`].
pub fn check(def: &OptionDef, value: &Value) -> Result<(), String> {
    match (def.kind, value) {
        (Kind::Int { min, max }, Value::Int(v)) if !(min..=max).contains(v) => {
            return Err(format!("must be from {min} to {max}, found {v}"));
        }
        (Kind::Mode, Value::Int(v)) if *v > MODE_MAX => {
            return Err(format!(
                "sets more than the permission bits: the largest mask is 0o7777, found 0o{v:o}"
            ));
        }
        _ => {}
    }
    match (def.check, value) {
        (Some(check), value) => check_extra(check, value),
        (None, _) => Ok(()),
    }
}

fn check_extra(check: Check, value: &Value) -> Result<(), String> {
    match (check, value) {
        (Check::Fsname, Value::Str(s)) if s.is_empty() => Err("must not be empty".into()),
        (Check::Fsname, Value::Str(s)) if s.contains('\0') => {
            Err("must not contain a NUL byte, which the kernel cannot take".into())
        }
        (Check::Subtype, Value::Str(s)) if s.is_empty() => Err("must not be empty".into()),
        (Check::Subtype, Value::Str(s)) => match s
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            // It becomes part of the filesystem type (`fuse.TYPE`) in /proc/mounts, so it is
            // kept to characters every tool that parses that file handles.
            Some(c) => Err(format!(
                "may contain only letters, digits, `_`, `.` and `-`, as the mount table shows it \
                 as the filesystem type `fuse.<subtype>`: {c:?} is not allowed"
            )),
            None => Ok(()),
        },
        (Check::PowerOfTwo, Value::Int(v)) if !v.is_power_of_two() => {
            Err(format!("must be a power of two, found {v}"))
        }
        _ => Ok(()),
    }
}

/// The choice `text` names among `choices` (or one of their aliases).
pub fn choice(choices: &'static [Choice], text: &str) -> Option<&'static Choice> {
    choices
        .iter()
        .find(|c| c.name == text || c.aliases.contains(&text))
}

/// `auto`, `direct` or `fusermount`, quoted as `quote` says.
pub fn choice_list(choices: &[Choice], quote: &str) -> String {
    let names: Vec<String> = choices
        .iter()
        .map(|c| format!("{quote}{}{quote}", c.name))
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// Reads the value of `name=text` (`-o`): parsed by kind, then [`check`]ed.
pub fn from_text(def: &OptionDef, text: &str) -> Result<Value, String> {
    let value = match def.kind {
        Kind::Flag => {
            return Err("is a flag and takes no value".into());
        }
        Kind::Seconds => Value::Nanos(seconds(text)?),
        Kind::Str | Kind::Path => Value::Str(text.to_string()),
        Kind::Int { min, max } => Value::Int(
            text.parse()
                .map_err(|_| format!("expects a whole number from {min} to {max}, got `{text}`"))?,
        ),
        Kind::Mode => match u64::from_str_radix(text, 8) {
            Ok(mask) => Value::Int(mask),
            Err(_) => {
                return Err(format!(
                    "expects an octal mask from 0 to 7777, like `022`, got `{text}`"
                ));
            }
        },
        Kind::OneOf { choices, .. } => Value::Choice(choice(choices, text).ok_or_else(|| {
            let list = choice_list(choices, "`");
            match crate::suggest::closest(text, choices.iter().map(|c| c.name)) {
                Some(c) => format!("expects {list}, got `{text}`; did you mean `{c}`?"),
                None => format!("expects {list}, got `{text}`"),
            }
        })?),
    };
    check(def, &value)?;
    Ok(value)
}

/// Seconds as libfuse takes them (`%lf`): a non-negative, finite decimal like `1` or `0.5`,
/// in nanoseconds.
fn seconds(text: &str) -> Result<u64, String> {
    let bad =
        || format!("expects a non-negative number of seconds, like `1` or `0.5`, got `{text}`");
    let secs: f64 = text.parse().map_err(|_| bad())?;
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad());
    }
    let d = Duration::try_from_secs_f64(secs).map_err(|_| bad())?;
    u64::try_from(d.as_nanos()).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Opt, def};

    #[test]
    fn text_is_read_by_kind() {
        let read = |o, t| from_text(def(o), t);
        assert_eq!(read(Opt::AttrTimeout, "0.5"), Ok(Value::Nanos(500_000_000)));
        assert_eq!(read(Opt::Umask, "022"), Ok(Value::Int(0o22)));
        assert_eq!(read(Opt::MaxWrite, "4096"), Ok(Value::Int(4096)));
        assert!(read(Opt::MaxWrite, "100").is_err_and(|e| e.contains("from 4096 to")));
        assert!(read(Opt::Blksize, "1000").is_err_and(|e| e.contains("power of two")));
        assert!(read(Opt::Umask, "17777").is_err_and(|e| e.contains("0o7777")));
        assert!(
            read(Opt::MountMethod, "fusermount3")
                .is_ok_and(|v| matches!(v, Value::Choice(c) if c.name == "fusermount"))
        );
        assert_eq!(
            read(Opt::MountMethod, "fusermont"),
            Err("expects `auto`, `direct` or `fusermount`, got `fusermont`; did you mean `fusermount`?".into())
        );
        assert!(read(Opt::Subtype, "a b").is_err_and(|e| e.contains("' ' is not allowed")));
        assert!(read(Opt::AttrTimeout, "1e400").is_err());
    }
}
