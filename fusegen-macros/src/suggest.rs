//! "Did you mean": the closest name from a closed list, or an explicit hint for names users
//! bring from other libraries.

/// A hint for `name`: an explicit one from `hints`, else the closest of `candidates`.
pub fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    hints: &[(&str, &str)],
) -> Option<String> {
    if let Some((_, hint)) = hints.iter().find(|(from, _)| *from == name) {
        return Some(format!("did you mean {hint}?"));
    }
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate within a small edit distance of `name`. A candidate that is a prefix of
/// `name` or the other way round does not count (`reader` is a helper, not a typo of `read`).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let allowed = if name.len() <= 5 { 1 } else { 2 };
    candidates
        .into_iter()
        .filter(|c| !c.starts_with(name) && !name.starts_with(c))
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested() {
        let ops = ["lookup", "getattr", "readdir", "read"];
        assert_eq!(closest("lokup", ops), Some("lookup"));
        assert_eq!(closest("getatr", ops), Some("getattr"));
        assert_eq!(closest("readir", ops), Some("readdir"));
    }

    #[test]
    fn helpers_are_not_mistaken_for_handlers() {
        let ops = ["lookup", "read", "write", "open"];
        assert_eq!(closest("reader", ops), None);
        assert_eq!(closest("load", ops), None);
        assert_eq!(closest("refresh", ops), None);
    }

    #[test]
    fn explicit_hints_win() {
        let hints = [("get_attr", "`getattr`")];
        assert_eq!(
            suggest("get_attr", ["getattr"], &hints).as_deref(),
            Some("did you mean `getattr`?")
        );
    }
}
