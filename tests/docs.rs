//! `docs/handlers.md` and `docs/options.md` are generated from the macro crate's tables
//! (`fusegen-macros/src/ops.rs`, `option_table.rs`): these tests fail when a doc and its table
//! disagree. Regenerate with `FUSEGEN_BLESS=1 cargo test -p fusegen-tests --test docs`.

#[allow(dead_code)]
#[path = "../fusegen-macros/src/ops.rs"]
mod ops;
#[allow(dead_code)]
#[path = "../fusegen-macros/src/option_table.rs"]
mod option_table;

use std::path::PathBuf;

const BEGIN: &str = "<!-- BEGIN GENERATED: do not edit; see tests/docs.rs -->";
const END: &str = "<!-- END GENERATED -->";

fn handlers_section() -> String {
    let mut out = String::new();
    out.push_str("| handler | kernel requests | when not written |\n|---|---|---|\n");
    for op in ops::OPS {
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            op.name, op.name, op.requests, op.default
        ));
    }
    for op in ops::OPS {
        out.push_str(&format!(
            "\n### `{}`\n\n```rust,ignore\n{}\n```\n\n{}\n",
            op.name,
            ops::signature(op),
            op.doc
        ));
    }
    out
}

fn kind(k: option_table::Kind) -> String {
    use option_table::Kind::*;
    match k {
        Flag => "flag".into(),
        Seconds => "seconds (integer or float)".into(),
        Str => "string".into(),
        Int { min, max } => format!("integer {min}..={max}"),
        Mode => "mode bits (e.g. `0o022`)".into(),
        OneOf(choices) => choices
            .iter()
            .map(|c| format!("`\"{c}\"`"))
            .collect::<Vec<_>>()
            .join(" \\| "),
        Path => "path in a string".into(),
    }
}

fn options_section() -> String {
    let mut out = String::new();
    out.push_str(
        "| option | value | default | `-o` equivalent | meaning |\n|---|---|---|---|---|\n",
    );
    for o in option_table::OPTIONS {
        let mo = if o.mount_option.is_empty() {
            "—".to_string()
        } else {
            format!("`{}`", o.mount_option)
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            o.name,
            kind(o.kind),
            o.default,
            mo,
            o.doc
        ));
    }
    out
}

fn check(doc: &str, section: String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(doc);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        panic!("{doc} lacks the generated-section markers");
    };
    let current = &text[start + BEGIN.len()..end];
    let wanted = format!("\n{section}");
    if current == wanted {
        return;
    }
    if std::env::var_os("FUSEGEN_BLESS").is_some() {
        let updated = format!("{}{BEGIN}{wanted}{}", &text[..start], &text[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "{doc} is out of date with its table; run `FUSEGEN_BLESS=1 cargo test -p fusegen-tests --test docs`"
    );
}

#[test]
fn handlers_doc_matches_the_table() {
    check("docs/handlers.md", handlers_section());
}

#[test]
fn options_doc_matches_the_table() {
    check("docs/options.md", options_section());
}

#[test]
fn every_option_is_documented_once() {
    let mut names: Vec<&str> = option_table::OPTIONS.iter().map(|o| o.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        option_table::OPTIONS.len(),
        "duplicate option names in the table"
    );
}
