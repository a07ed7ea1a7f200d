//! "Did you mean": the one engine for unknown names, used by `#[fuse(...)]`, by `-o` text and
//! by the macros for operation names. An explicit hint for names users bring from elsewhere
//! ([`HINTS`]), else the other side's spelling of an option (`ro` in
//! `#[fuse(...)]`, `read_only` after `-o`), else the closest name by edit distance.

use crate::HintTo;
use crate::{DashO, Form, HINTS, IGNORED, OPTIONS, Side, def, find, find_dash_o};

/// What to tell the user about an unknown name.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Suggestion {
    /// What they probably meant, already quoted (`` `allow_other` ``).
    Meant(String),
    /// What to do instead.
    Advice(&'static str),
}

impl Suggestion {
    /// `prefix` followed by the suggestion: `` unknown … `x`, did you mean `y`? `` or
    /// `unknown … `x`: advice`.
    pub fn after(&self, prefix: &str) -> String {
        match self {
            Suggestion::Meant(meant) => format!("{prefix}, did you mean {meant}?"),
            Suggestion::Advice(advice) => format!("{prefix}: {advice}"),
        }
    }
}

/// The suggestion for `name`, an unknown option on `side`.
pub fn option(name: &str, side: Side) -> Option<Suggestion> {
    if let Some(s) = HINTS
        .iter()
        .filter(|(from, _)| *from == name)
        .find_map(|(_, to)| render(*to, side))
    {
        return Some(s);
    }
    if let Some(s) = other_spelling(name, side) {
        return Some(s);
    }
    let names = names(side);
    closest(name, names.iter().copied()).map(|c| Suggestion::Meant(format!("`{c}`")))
}

/// Every name `side` accepts (for `-o`, also the names it ignores), in table order.
pub fn names(side: Side) -> Vec<&'static str> {
    match side {
        Side::Attribute => OPTIONS.iter().filter_map(|o| o.name_on(side)).collect(),
        Side::DashO => OPTIONS
            .iter()
            .flat_map(|o| match o.dash_o {
                DashO::None => [None, None],
                DashO::Flag { on, off } => [Some(on), off],
                DashO::Value { name, .. } => [Some(name), None],
            })
            .flatten()
            .chain(IGNORED.iter().copied())
            .collect(),
    }
}

fn render(to: HintTo, side: Side) -> Option<Suggestion> {
    let quoted = |opt| def(opt).name_on(side).map(|n| format!("`{n}`"));
    let meant = match to {
        HintTo::Option(opt) => quoted(opt)?,
        HintTo::Both(a, b) => format!("{} and {}", quoted(a)?, quoted(b)?),
        HintTo::Set(opt, value) => def(opt).written(side, value)?,
        HintTo::Advice(advice) => return Some(Suggestion::Advice(advice)),
    };
    Some(Suggestion::Meant(meant))
}

/// `name` as the other side spells an option this side has.
fn other_spelling(name: &str, side: Side) -> Option<Suggestion> {
    let meant = match side {
        Side::Attribute => {
            let (o, form) = find_dash_o(name)?;
            match form {
                Form::Off => o.written(side, "false")?,
                Form::On | Form::Value => format!("`{}`", o.name_on(side)?),
            }
        }
        Side::DashO => format!("`{}`", find(name)?.name_on(side)?),
    };
    Some(Suggestion::Meant(meant))
}

/// The candidate within a small edit distance of `name`, ignoring ASCII case: one edit for
/// names of up to seven characters, two for longer ones (`reader` is two edits from `readdir`
/// and is no typo of it). The first of equally close candidates wins.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let allowed = if name.chars().count() <= 7 { 1 } else { 2 };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance with adjacent transpositions (optimal string alignment), over chars: a
/// swapped pair (`read_onyl`) is one typo, as people make it.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back for transpositions.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meant(name: &str, side: Side) -> Option<String> {
        match option(name, side)? {
            Suggestion::Meant(m) => Some(m),
            Suggestion::Advice(a) => Some(a.to_string()),
        }
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", "ro"), 2);
        assert_eq!(edit_distance("ro", "ro"), 0);
        assert_eq!(edit_distance("alow_other", "allow_other"), 1);
        assert_eq!(edit_distance("read_onyl", "read_only"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn near_misses_and_far_names() {
        let ops = [
            "lookup", "getattr", "readdir", "read", "setxattr", "write", "open",
        ];
        assert_eq!(closest("lokup", ops), Some("lookup"));
        assert_eq!(closest("readdri", ops), Some("readdir"));
        assert_eq!(closest("GETATTR", ops), Some("getattr"));
        for far in ["reader", "load", "refresh", "foo"] {
            assert_eq!(closest(far, ops), None, "{far}");
        }
    }

    #[test]
    fn one_typo_one_suggestion_on_both_sides() {
        for (typo, want) in [
            ("alow_other", "`allow_other`"),
            ("atr_timeout", "`attr_timeout`"),
            ("writeback_cach", "`writeback_cache`"),
            ("max_writ", "`max_write`"),
            (
                "big_writes",
                "a FUSE 2 option: FUSE 3 always allows big writes, so remove it",
            ),
        ] {
            assert_eq!(
                meant(typo, Side::Attribute).as_deref(),
                Some(want),
                "{typo}"
            );
            assert_eq!(meant(typo, Side::DashO).as_deref(), Some(want), "{typo}");
        }
    }

    #[test]
    fn the_other_sides_spelling_is_suggested() {
        assert_eq!(meant("ro", Side::Attribute).as_deref(), Some("`read_only`"));
        assert_eq!(meant("read_only", Side::DashO).as_deref(), Some("`ro`"));
        assert_eq!(
            meant("export_support", Side::Attribute).as_deref(),
            Some("`supports_dot_lookup`")
        );
        assert_eq!(
            meant("no_handle_killpriv", Side::Attribute).as_deref(),
            Some("`handle_killpriv = false`")
        );
        assert_eq!(
            meant("direct_mount", Side::DashO).as_deref(),
            Some("`mount_method=direct`")
        );
        // Hints for options one side lacks fall back to the closest name there.
        assert_eq!(
            meant("max_threads", Side::Attribute).as_deref(),
            Some("`max_tasks`")
        );
        assert_eq!(meant("max_threads", Side::DashO), None);
        assert_eq!(meant("_netdevv", Side::DashO).as_deref(), Some("`_netdev`"));
    }
}
