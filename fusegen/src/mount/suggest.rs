//! "Did you mean" for unknown mount options: the closest known name by edit distance, and
//! hints for options users bring from FUSE 2 or fstab. The option table itself is in
//! `parse.rs`.

/// Options users bring from elsewhere, with what to do instead.
const FOREIGN: &[(&str, &str)] = &[
    (
        "big_writes",
        "a FUSE 2 option: FUSE 3 always allows big writes, so remove it",
    ),
    ("large_read", "obsolete since Linux 2.6, so remove it"),
];

/// What to do about an option that comes from FUSE 2 or fstab, if `name` is one.
pub(super) fn foreign_hint(name: &str) -> Option<&'static str> {
    FOREIGN
        .iter()
        .find(|(foreign, _)| *foreign == name)
        .map(|(_, hint)| *hint)
}

/// The candidate closest to `name` (ignoring ASCII case) within edit distance 2, if any;
/// the first one listed wins a tie.
pub(super) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .map(|candidate| (edit_distance(&lower, candidate), candidate))
        .filter(|&(distance, _)| distance <= 2)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over chars (option names are short, so O(n·m) is fine).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", "ro"), 2);
        assert_eq!(edit_distance("ro", "ro"), 0);
        assert_eq!(edit_distance("alow_other", "allow_other"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_within_two() {
        let names = ["allow_other", "allow_root", "ro", "rw"];
        assert_eq!(
            closest("alow_other", names.into_iter()),
            Some("allow_other")
        );
        assert_eq!(closest("ALLOW_ROOT", names.into_iter()), Some("allow_root"));
        assert_eq!(
            closest("allow_others", names.into_iter()),
            Some("allow_other")
        );
        assert_eq!(closest("zzzzzz", names.into_iter()), None);
    }

    #[test]
    fn foreign_options_get_hints() {
        assert!(foreign_hint("big_writes").is_some_and(|h| h.contains("FUSE 3")));
        assert_eq!(foreign_hint("ro"), None);
    }
}
