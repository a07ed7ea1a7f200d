//! The one table of fusegen's options: every `#[fuse(...)]` option and every `-o` mount
//! option, with its value kind and range, default, documentation and where its value goes
//! ([`OPTIONS`]); the rules between options ([`rules`]); value checks ([`values`]); and the one
//! "did you mean" engine ([`suggest`]). `fusegen-macros` reads it to check `#[fuse(...)]` at
//! compile time, `fusegen` to parse `-o` text at run time, so both apply the same rules with
//! the same words.
//!
//! Pure data and pure functions, with no dependency: nothing here knows `syn` or the runtime's
//! types. Not meant to be used directly; its API follows the two crates that use it.

#![forbid(unsafe_code)]

pub mod rules;
pub mod suggest;
mod table;
pub mod values;

pub use table::{Demand, HANDLER_RULES, HINTS, HandlerRule, HintTo, IGNORED, OPTIONS, Opt};

/// The kind of value an option takes, with its allowed range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// On or off: `#[fuse(name)]` / `name = false`; `-o name` (and its `off` spelling).
    Flag,
    /// Seconds, at least 0: an integer or float.
    Seconds,
    /// A string.
    Str,
    /// An unsigned integer in `min..=max`.
    Int { min: u64, max: u64 },
    /// File mode bits, at most `0o7777` (octal `0o022` in Rust, `022` after `-o`).
    Mode,
    /// One of a closed list; `ty` is the runtime's enum the choices are variants of.
    OneOf {
        ty: &'static str,
        choices: &'static [Choice],
    },
    /// A path in a string (`crate = "::my::fusegen"`).
    Path,
}

/// One choice of a [`Kind::OneOf`] option.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Choice {
    /// As written.
    pub name: &'static str,
    /// The variant of the runtime's enum it stands for.
    pub variant: &'static str,
    /// Other spellings `-o` accepts (`fusermount3` for `fusermount`).
    pub aliases: &'static [&'static str],
}

/// Where an option's value goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    /// A plain field of `fusegen::MountOptions` (`bool`, `MountMethod`).
    Field(&'static str),
    /// An `Option<T>` field of `fusegen::MountOptions`.
    OptionalField(&'static str),
    /// A field of `fusegen::Workers`.
    Workers(&'static str),
    /// Read by the macros themselves.
    Macro,
}

/// How `-o` spells an option.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DashO {
    /// Not a mount option (set in `#[fuse(...)]` or in code only).
    None,
    /// A flag: `on` turns it on, `off` (if any) off (`ro` / `rw`).
    Flag {
        on: &'static str,
        off: Option<&'static str>,
    },
    /// `name=VALUE`; `placeholder` is the `VALUE` shown in messages and docs.
    Value {
        name: &'static str,
        placeholder: &'static str,
    },
}

/// A check on a value beyond its kind and range, with the reason in the message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Check {
    /// Non-empty, no NUL byte.
    Fsname,
    /// Non-empty, only `[A-Za-z0-9_.-]`.
    Subtype,
    /// A power of two.
    PowerOfTwo,
}

/// One option.
#[derive(Clone, Copy, Debug)]
pub struct OptionDef {
    /// Its symbol.
    pub id: Opt,
    /// Its `#[fuse(...)]` name (for an option `-o` alone has, its `-o` name).
    pub name: &'static str,
    /// Whether `#[fuse(...)]` takes it.
    pub attribute: bool,
    /// How `-o` spells it.
    pub dash_o: DashO,
    pub kind: Kind,
    pub target: Target,
    /// An extra check of the value.
    pub check: Option<Check>,
    /// The default, as docs show it.
    pub default: &'static str,
    /// One line for docs.
    pub doc: &'static str,
}

/// A value, as either side read it.
#[derive(Clone, PartialEq, Debug)]
pub enum Value {
    Bool(bool),
    /// Seconds, in nanoseconds.
    Nanos(u64),
    Str(String),
    /// An integer or mode bits.
    Int(u64),
    Choice(&'static Choice),
}

impl Value {
    /// Whether the value turns its option on: a flag that is true, or any other value.
    pub fn is_on(&self) -> bool {
        !matches!(self, Value::Bool(false))
    }
}

/// Which side names an option: the attribute or `-o` text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// `#[fuse(...)]`.
    Attribute,
    /// `-o` text (`MountOptions::parse`).
    DashO,
}

/// The row of `id`.
pub fn def(id: Opt) -> &'static OptionDef {
    // The table lists every `Opt` in declaration order; `table::tests` checks it.
    &OPTIONS[id as usize]
}

/// The option `#[fuse(...)]` calls `name`.
pub fn find(name: &str) -> Option<&'static OptionDef> {
    OPTIONS.iter().find(|o| o.attribute && o.name == name)
}

/// How `-o` text names an option.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Form {
    /// The flag's `on` spelling.
    On,
    /// The flag's `off` spelling.
    Off,
    /// `name=VALUE`.
    Value,
}

/// The option `-o` calls `name`, and which of its spellings that is.
pub fn find_dash_o(name: &str) -> Option<(&'static OptionDef, Form)> {
    OPTIONS.iter().find_map(|o| match o.dash_o {
        DashO::Flag { on, .. } if on == name => Some((o, Form::On)),
        DashO::Flag { off: Some(off), .. } if off == name => Some((o, Form::Off)),
        DashO::Value { name: n, .. } if n == name => Some((o, Form::Value)),
        _ => None,
    })
}

impl OptionDef {
    /// The option's name on `side` (for `-o`, a flag's `on` spelling), if it has one.
    pub fn name_on(&self, side: Side) -> Option<&'static str> {
        match side {
            Side::Attribute => self.attribute.then_some(self.name),
            Side::DashO => match self.dash_o {
                DashO::None => None,
                DashO::Flag { on, .. } => Some(on),
                DashO::Value { name, .. } => Some(name),
            },
        }
    }

    /// The option set to `value` as `side` writes it: `` `mount_method = "direct"` `` or
    /// `` `mount_method=direct` ``, `` `handle_killpriv = false` `` or `` `no_handle_killpriv` ``.
    pub fn written(&self, side: Side, value: &str) -> Option<String> {
        match side {
            Side::Attribute => {
                let name = self.name_on(side)?;
                Some(match self.kind {
                    Kind::Flag if value == "true" => format!("`{name}`"),
                    Kind::Flag | Kind::Int { .. } | Kind::Seconds | Kind::Mode => {
                        format!("`{name} = {value}`")
                    }
                    _ => format!("`{name} = \"{value}\"`"),
                })
            }
            Side::DashO => match self.dash_o {
                DashO::None => None,
                DashO::Flag { on, .. } if value == "true" => Some(format!("`{on}`")),
                DashO::Flag { off, .. } => off.map(|off| format!("`{off}`")),
                DashO::Value { name, .. } => Some(format!("`{name}={value}`")),
            },
        }
    }
}
