//! "Did you mean" for the macros: the engine is the shared one (`fusegen_options::suggest`),
//! which `-o` text uses too, so a typo gets one suggestion everywhere. Options and operations
//! share it; the operation side adds its own rules for telling a misspelled handler from a
//! helper method (`handlers.rs`).

pub use fusegen_options::suggest::closest;

/// The explicit hint for `name`, if `hints` has one.
pub fn hint<'a>(name: &str, hints: &[(&str, &'a str)]) -> Option<&'a str> {
    hints
        .iter()
        .find(|(from, _)| *from == name)
        .map(|(_, hint)| *hint)
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
    fn explicit_hints_are_found() {
        let hints = [("get_attr", "`getattr`")];
        assert_eq!(hint("get_attr", &hints), Some("`getattr`"));
        assert_eq!(hint("getatr", &hints), None);
    }

    #[test]
    fn lists_are_backticked() {
        assert_eq!(one_of(["a", "b"]), "`a`, `b`");
    }
}
