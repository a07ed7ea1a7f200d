//! "Did you mean": the closest name from a closed list, or an explicit hint for names users
//! bring from other libraries. Options and operations share this; the operation side adds
//! its own rules for telling a misspelled handler from a helper method (`handlers.rs`).

/// The explicit hint for `name`, if `hints` has one.
pub fn hint<'a>(name: &str, hints: &[(&str, &'a str)]) -> Option<&'a str> {
    hints
        .iter()
        .find(|(from, _)| *from == name)
        .map(|(_, hint)| *hint)
}

/// The candidate within a small edit distance of `name`: one edit for names of up to seven
/// characters, two for longer ones (`reader` is two edits from `readdir` and is no typo of it).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let allowed = if name.chars().count() <= 7 { 1 } else { 2 };
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The tail of a message about unknown `name`: `did you mean ...?` from `hints` or the closest
/// of `candidates`, else `None`.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    hints: &[(&str, &str)],
) -> Option<String> {
    if let Some(hint) = hint(name, hints) {
        return Some(format!("did you mean {hint}?"));
    }
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// `a`, `b`, `c` for messages that list every valid name.
pub fn one_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested() {
        let ops = ["lookup", "getattr", "readdir", "read", "setxattr"];
        assert_eq!(closest("lokup", ops), Some("lookup"));
        assert_eq!(closest("getatr", ops), Some("getattr"));
        assert_eq!(closest("readir", ops), Some("readdir"));
        assert_eq!(closest("readdri", ops), Some("readdir"));
        assert_eq!(closest("setxatr", ops), Some("setxattr"));
    }

    #[test]
    fn truncated_names_are_suggested() {
        let options = ["writeback_cache", "read_only"];
        assert_eq!(closest("writeback_cach", options), Some("writeback_cache"));
        assert_eq!(closest("read_onl", options), Some("read_only"));
    }

    #[test]
    fn distant_names_are_not_suggested() {
        let ops = ["lookup", "read", "readdir", "write", "open"];
        assert_eq!(closest("reader", ops), None);
        assert_eq!(closest("load", ops), None);
        assert_eq!(closest("refresh", ops), None);
        assert_eq!(closest("foo", ops), None);
    }

    #[test]
    fn explicit_hints_win() {
        let hints = [("get_attr", "`getattr`")];
        assert_eq!(
            did_you_mean("get_attr", ["getattr"], &hints).as_deref(),
            Some("did you mean `getattr`?")
        );
        assert_eq!(
            did_you_mean("getatr", ["getattr"], &hints).as_deref(),
            Some("did you mean `getattr`?")
        );
        assert_eq!(did_you_mean("zzz", ["getattr"], &hints), None);
    }

    #[test]
    fn lists_are_backticked() {
        assert_eq!(one_of(["a", "b"]), "`a`, `b`");
    }
}
