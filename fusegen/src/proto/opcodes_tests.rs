use super::*;

/// The handler table of the macro crate: plain data, included as `tests/docs.rs` does.
#[allow(dead_code)]
#[path = "../../../fusegen-macros/src/ops.rs"]
mod handler_table;

/// Opcodes no handler row serves: the server answers them itself (INIT is negotiated before
/// the `init` handler runs, INTERRUPT and NOTIFY_REPLY are the server's) or refuses them
/// (virtiofs DAX mappings, CUSE).
const SERVED_BY_THE_SERVER: &[&str] = &[
    "INTERRUPT",
    "NOTIFY_REPLY",
    "SETUPMAPPING",
    "REMOVEMAPPING",
    "CUSE_INIT",
];

fn table_names() -> Vec<&'static str> {
    Opcode::ALL.iter().map(|op| op.name()).collect()
}

/// The opcodes a handler row names in its `requests` column: the upper-case words (not
/// "unmount", not a `FUSE_*` flag).
fn requests_of(op: &handler_table::Op) -> impl Iterator<Item = &'static str> {
    op.requests
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .filter(|w| !w.starts_with("FUSE_")) // a flag, as in "SETLK with FUSE_LK_FLOCK"
}

#[test]
fn names_are_the_kernels_without_prefix() {
    assert_eq!(Opcode::Lookup.name(), "LOOKUP");
    assert_eq!(Opcode::CopyFileRange64.name(), "COPY_FILE_RANGE_64");
    assert_eq!(Opcode::CuseInit.name(), "CUSE_INIT");
    assert_eq!(opcode_name(values::FUSE_BATCH_FORGET), "BATCH_FORGET");
    assert_eq!(opcode_name(7), "UNKNOWN");
}

#[test]
fn every_row_round_trips_through_its_value() {
    for &op in Opcode::ALL {
        let raw = (1..=values::CUSE_INIT)
            .find(|&raw| Opcode::from_raw(raw) == Some(op))
            .unwrap_or_else(|| panic!("{op:?} has no value"));
        assert_eq!(opcode_name(raw), op.name());
    }
    let mut names = table_names();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Opcode::ALL.len(), "two rows with one name");
}

#[test]
fn only_forget_interrupt_and_notify_reply_go_unanswered() {
    let unanswered: Vec<&str> = Opcode::ALL
        .iter()
        .filter(|op| !gets_reply(from_name(op.name())))
        .map(|op| op.name())
        .collect();
    assert_eq!(
        unanswered,
        ["FORGET", "INTERRUPT", "NOTIFY_REPLY", "BATCH_FORGET"]
    );
    let on_dev: Vec<&str> = Opcode::ALL
        .iter()
        .filter(|op| always_on_dev(from_name(op.name())))
        .map(|op| op.name())
        .collect();
    assert_eq!(on_dev, ["FORGET", "INTERRUPT", "BATCH_FORGET"]);
    // An opcode the table does not know is answered (ENOSYS).
    assert!(gets_reply(7));
    assert!(!always_on_dev(7));
}

fn from_name(name: &str) -> u32 {
    (1..=values::CUSE_INIT)
        .find(|&raw| Opcode::from_raw(raw).is_some_and(|op| op.name() == name))
        .unwrap_or_else(|| panic!("no opcode {name}"))
}

#[test]
fn handler_rows_name_opcodes_of_this_table() {
    let names = table_names();
    for op in handler_table::OPS {
        for request in requests_of(op) {
            assert!(
                names.contains(&request),
                "handler `{}` serves {request}, which is not in the opcode table",
                op.name
            );
        }
    }
}

#[test]
fn every_opcode_is_served_by_a_handler_or_the_server() {
    for name in table_names() {
        let handled = handler_table::OPS
            .iter()
            .any(|op| requests_of(op).any(|r| r == name));
        assert!(
            handled || SERVED_BY_THE_SERVER.contains(&name),
            "opcode {name} has no handler row in fusegen-macros/src/ops.rs naming it in \
             `requests`, and is not one the server answers itself"
        );
    }
}
