//! Rules between options: conflicts, options that need another, and limits between two
//! values, each with the words both sides report. `#[fuse(...)]` reports every broken rule at
//! compile time; `-o` text is held only to the rules marked `run_time`: the others flag
//! combinations that are pointless rather than wrong, which `-o` accepts as libfuse does (a
//! command line may turn off one of a program's defaults and leave the other).

use crate::{Kind, Opt, Side, Value, def};

/// A condition on one option.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cond {
    /// A flag set to true, or any value given.
    On(Opt),
    /// A one-of option set to this choice.
    Is(Opt, &'static str),
}

impl Cond {
    fn opt(self) -> Opt {
        match self {
            Cond::On(o) | Cond::Is(o, _) => o,
        }
    }

    fn holds(self, values: &impl Lookup) -> bool {
        match (self, values.value(self.opt())) {
            (Cond::On(_), Some(v)) => v.is_on(),
            (Cond::Is(_, want), Some(Value::Choice(c))) => c.name == want,
            _ => false,
        }
    }

    fn written(self, side: Side) -> String {
        let d = def(self.opt());
        match self {
            Cond::On(_) => format!("`{}`", d.name_on(side).unwrap_or(d.name)),
            Cond::Is(_, value) => d
                .written(side, value)
                .unwrap_or_else(|| format!("`{} = {value}`", d.name)),
        }
    }
}

/// One rule.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rule {
    /// `a` and `b` cannot both hold.
    Conflict {
        a: Cond,
        b: Cond,
        why: &'static str,
        run_time: bool,
    },
    /// `option` means nothing without `needs`.
    Requires {
        option: Opt,
        needs: Opt,
        fix: &'static str,
        run_time: bool,
    },
    /// The value of `small` may not exceed that of `large` (or `large`'s numeric default).
    AtMost {
        small: Opt,
        large: Opt,
        why: &'static str,
        run_time: bool,
    },
}

/// Every rule between options.
pub const RULES: &[Rule] = &[
    Rule::Conflict {
        a: Cond::On(Opt::AllowOther),
        b: Cond::On(Opt::AllowRoot),
        why: "`allow_other` admits every user, root included; keep the one you mean",
        run_time: true,
    },
    Rule::Conflict {
        a: Cond::On(Opt::Passthrough),
        b: Cond::On(Opt::WritebackCache),
        why: "the kernel does not combine passthrough with the writeback cache",
        run_time: true,
    },
    Rule::Conflict {
        a: Cond::On(Opt::AutoUnmount),
        b: Cond::Is(Opt::MountMethod, "direct"),
        why: "`auto_unmount` needs `fusermount3`, which a direct mount does not use",
        run_time: true,
    },
    Rule::Conflict {
        a: Cond::On(Opt::DirectIo),
        b: Cond::On(Opt::KernelCache),
        why: "with `direct_io` nothing is cached, so `kernel_cache` would have no effect",
        run_time: false,
    },
    Rule::Conflict {
        a: Cond::On(Opt::DirectIo),
        b: Cond::On(Opt::AutoCache),
        why: "with `direct_io` nothing is cached, so `auto_cache` would have no effect",
        run_time: false,
    },
    Rule::Conflict {
        a: Cond::On(Opt::KernelCache),
        b: Cond::On(Opt::AutoCache),
        why: "`kernel_cache` keeps cached data unconditionally, `auto_cache` drops it when the file changes",
        run_time: false,
    },
    Rule::Requires {
        option: Opt::IntrSignal,
        needs: Opt::Intr,
        fix: "add `intr` so that requests can be interrupted",
        run_time: false,
    },
    Rule::Requires {
        option: Opt::AcAttrTimeout,
        needs: Opt::AutoCache,
        fix: "add `auto_cache`, or use `attr_timeout`",
        run_time: false,
    },
    Rule::Requires {
        option: Opt::MaxStackDepth,
        needs: Opt::Passthrough,
        fix: "add `passthrough`, or drop `max_stack_depth`",
        run_time: false,
    },
    Rule::AtMost {
        small: Opt::MinTasks,
        large: Opt::MaxTasks,
        why: "the pool cannot keep more idle workers than it may run",
        run_time: false,
    },
    Rule::AtMost {
        small: Opt::CongestionThreshold,
        large: Opt::MaxBackground,
        why: "the kernel never queues more background requests than `max_background`",
        run_time: false,
    },
];

/// The options a side has set.
pub trait Lookup {
    /// The value of `opt`, or `None` when it is not set.
    fn value(&self, opt: Opt) -> Option<Value>;
}

/// A broken rule.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Violation {
    /// The rule.
    pub rule: &'static Rule,
    /// The options it is about, in the order the rule names them (one when the other is
    /// a default).
    pub options: Vec<Opt>,
    /// What is wrong, in `side`'s spelling.
    pub message: String,
}

/// Every rule `values` break, in table order; for `-o`, only the `run_time` ones.
pub fn check(values: &impl Lookup, side: Side) -> Vec<Violation> {
    RULES
        .iter()
        .filter(|rule| side == Side::Attribute || rule.run_time())
        .filter_map(|rule| rule.violation(values, side))
        .collect()
}

impl Rule {
    fn run_time(&self) -> bool {
        match *self {
            Rule::Conflict { run_time, .. }
            | Rule::Requires { run_time, .. }
            | Rule::AtMost { run_time, .. } => run_time,
        }
    }

    fn violation(&'static self, values: &impl Lookup, side: Side) -> Option<Violation> {
        let rule = self;
        match *self {
            Rule::Conflict { a, b, why, .. } => {
                (a.holds(values) && b.holds(values)).then(|| Violation {
                    rule,
                    options: vec![a.opt(), b.opt()],
                    message: format!(
                        "{} and {} cannot be used together: {why}",
                        a.written(side),
                        b.written(side)
                    ),
                })
            }
            Rule::Requires {
                option, needs, fix, ..
            } => (values.value(option).is_some() && !Cond::On(needs).holds(values)).then(|| {
                Violation {
                    rule,
                    options: vec![option],
                    message: format!(
                        "{} has no effect without {}: {fix}",
                        Cond::On(option).written(side),
                        Cond::On(needs).written(side)
                    ),
                }
            }),
            Rule::AtMost {
                small, large, why, ..
            } => {
                let Some(Value::Int(lo)) = values.value(small) else {
                    return None;
                };
                let (s, l) = (def(small), def(large));
                let (sname, lname) = (s.name_on(side)?, l.name_on(side)?);
                match values.value(large) {
                    Some(Value::Int(hi)) => (lo > hi).then(|| Violation {
                        rule,
                        options: vec![small, large],
                        message: format!("`{sname} = {lo}` is more than `{lname} = {hi}`: {why}"),
                    }),
                    None => {
                        // A default that is a number (`max_tasks`: 99) bounds too; a larger
                        // `min_tasks` alone would silently raise it.
                        let default: u64 = l.default.parse().ok()?;
                        debug_assert!(matches!(l.kind, Kind::Int { .. }));
                        (lo > default).then(|| Violation {
                            rule,
                            options: vec![small],
                            message: format!(
                                "`{sname} = {lo}` is more than the default `{lname}` ({default}): \
                                 set `{lname}` as well"
                            ),
                        })
                    }
                    Some(_) => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Set(Vec<(Opt, Value)>);

    impl Lookup for Set {
        fn value(&self, opt: Opt) -> Option<Value> {
            self.0
                .iter()
                .find(|(o, _)| *o == opt)
                .map(|(_, v)| v.clone())
        }
    }

    fn on(o: Opt) -> (Opt, Value) {
        (o, Value::Bool(true))
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let set = Set(vec![
            on(Opt::AllowOther),
            on(Opt::AllowRoot),
            on(Opt::DirectIo),
            on(Opt::KernelCache),
            (Opt::IntrSignal, Value::Int(10)),
        ]);
        let found = check(&set, Side::Attribute);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(
            found[0].message,
            "`allow_other` and `allow_root` cannot be used together: `allow_other` admits every \
             user, root included; keep the one you mean"
        );
        // `-o` holds only to the run-time rules.
        assert_eq!(check(&set, Side::DashO).len(), 1);
    }

    #[test]
    fn a_choice_is_spelled_per_side() {
        let direct = crate::values::choice(
            match def(Opt::MountMethod).kind {
                Kind::OneOf { choices, .. } => choices,
                _ => &[],
            },
            "direct",
        )
        .map(|c| (Opt::MountMethod, Value::Choice(c)));
        let set = Set([Some(on(Opt::AutoUnmount)), direct]
            .into_iter()
            .flatten()
            .collect());
        let message = |side| check(&set, side).pop().map(|v| v.message);
        assert!(message(Side::Attribute).is_some_and(|m| m.starts_with(
            "`auto_unmount` and `mount_method = \"direct\"` cannot be used together"
        )));
        assert!(message(Side::DashO).is_some_and(|m| {
            m.starts_with("`auto_unmount` and `mount_method=direct` cannot be used together")
        }));
    }

    #[test]
    fn limits_use_a_numeric_default() {
        let set = Set(vec![(Opt::MinTasks, Value::Int(100))]);
        let found = check(&set, Side::Attribute);
        assert_eq!(
            found[0].message,
            "`min_tasks = 100` is more than the default `max_tasks` (99): set `max_tasks` as well"
        );
        let set = Set(vec![(Opt::CongestionThreshold, Value::Int(100))]);
        assert!(check(&set, Side::Attribute).is_empty());
    }
}
