//! `docs/handlers.md` and `docs/options.md` are generated from the tables (the macro crate's
//! `fusegen-macros/src/ops.rs`, and `fusegen-options`, the option table `#[fuse(...)]` and
//! `-o` share): these tests fail when a doc and its table disagree. Regenerate with `FUSEGEN_BLESS=1 cargo test -p fusegen-tests --test docs`.
//! The module map of `docs/architecture.md` is checked against `fusegen/src/` the same way.

#[allow(dead_code)]
#[path = "../fusegen-macros/src/ops.rs"]
mod ops;
// The path-level table (`crate::ops` in it is the module above).
#[allow(dead_code)]
#[path = "../fusegen-macros/src/paths/table.rs"]
mod path_table;

use std::path::PathBuf;

use fusegen_options::rules::{Cond, RULES, Rule};
use fusegen_options::{DashO, Demand, HANDLER_RULES, Kind, OPTIONS, Side, def};

const BEGIN: &str = "<!-- BEGIN GENERATED: do not edit; see tests/docs.rs -->";
const END: &str = "<!-- END GENERATED -->";
const PATHS_BEGIN: &str = "<!-- BEGIN GENERATED PATH HANDLERS: do not edit; see tests/docs.rs -->";
const PATHS_END: &str = "<!-- END GENERATED PATH HANDLERS -->";

/// The path-level handlers (`#[fusegen::handlers(paths)]`), from their table: a table of
/// signatures, without a section per handler (the inode-level sections above cover what
/// each operation does).
fn path_handlers_section() -> String {
    let mut out = String::new();
    out.push_str("| handler | signature | when not written |\n|---|---|---|\n");
    for op in path_table::PATH_OPS {
        out.push_str(&format!(
            "| `{}` | `{}` | {} |\n",
            op.name,
            ops::signature(op),
            op.default
        ));
    }
    out
}

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

fn kind(k: Kind) -> String {
    match k {
        Kind::Flag => "flag".into(),
        Kind::Seconds => "seconds (integer or float)".into(),
        Kind::Str => "string".into(),
        Kind::Int { min, max } => format!("integer {min}..={max}"),
        Kind::Mode => "mode bits (e.g. `0o022`)".into(),
        Kind::OneOf { choices, .. } => choices
            .iter()
            .map(|c| format!("`\"{}\"`", c.name))
            .collect::<Vec<_>>()
            .join(" \\| "),
        Kind::Path => "path in a string".into(),
    }
}

fn dash_o(d: DashO) -> String {
    match d {
        DashO::None => "—".to_string(),
        DashO::Flag { on, off: None } => format!("`{on}`"),
        DashO::Flag { on, off: Some(off) } => format!("`{on}` / `{off}`"),
        // A pipe inside a table cell is escaped, even in code.
        DashO::Value { name, placeholder } => {
            format!("`{name}={}`", placeholder.replace('|', "\\|"))
        }
    }
}

fn cond(c: Cond) -> String {
    match c {
        Cond::On(o) => format!("`{}`", def(o).name),
        Cond::Is(o, v) => def(o)
            .written(Side::Attribute, v)
            .unwrap_or_else(|| format!("`{}`", def(o).name)),
    }
}

fn options_section() -> String {
    let mut out = String::new();
    out.push_str(
        "| option | value | default | `-o` equivalent | meaning |\n|---|---|---|---|---|\n",
    );
    for o in OPTIONS.iter().filter(|o| o.attribute) {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            o.name,
            kind(o.kind),
            o.default,
            dash_o(o.dash_o),
            o.doc
        ));
    }
    out.push_str(
        "\n### Rules between options\n\nEach is a compile error on the options involved; \
         those marked *`-o` too* are also errors of `MountOptions::parse`, `set` and \
         `validate`, with the same words.\n\n| rule | why | `-o` too |\n|---|---|---|\n",
    );
    for r in RULES {
        let (rule, why, run_time) = match *r {
            Rule::Conflict {
                a,
                b,
                why,
                run_time,
            } => (format!("not {} with {}", cond(a), cond(b)), why, run_time),
            Rule::Requires {
                option,
                needs,
                fix,
                run_time,
            } => (
                format!("`{}` needs `{}`", def(option).name, def(needs).name),
                fix,
                run_time,
            ),
            Rule::AtMost {
                small,
                large,
                why,
                run_time,
            } => (
                format!("`{}` ≤ `{}`", def(small).name, def(large).name),
                why,
                run_time,
            ),
        };
        let run_time = if run_time { "yes" } else { "no" };
        out.push_str(&format!("| {rule} | {why} | {run_time} |\n"));
    }
    out.push_str(
        "\n### Options that depend on handlers\n\nEach is a compile error on the option when \
         the handlers do not match (checked when the option is on: a flag set to true, or a \
         value given).\n\n| option | handlers | why |\n|---|---|---|\n",
    );
    for r in HANDLER_RULES {
        let demand = match r.demand {
            Demand::Needs(names) => {
                let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                format!("needs {}", names.join(", "))
            }
            Demand::Excludes(name) => format!("excludes `{name}`"),
        };
        let unless = r
            .unless
            .map_or(String::new(), |u| format!(" (not with `{}`)", def(u).name));
        out.push_str(&format!(
            "| `{}` | {demand}{unless} | {} |\n",
            def(r.option).name,
            r.why
        ));
    }
    out
}

fn check(doc: &str, section: String) {
    check_between(doc, (BEGIN, END), section);
}

fn check_between(doc: &str, (begin, end_marker): (&str, &str), section: String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(doc);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let (Some(start), Some(end)) = (text.find(begin), text.find(end_marker)) else {
        panic!("{doc} lacks the generated-section markers");
    };
    let current = &text[start + begin.len()..end];
    let wanted = format!("\n{section}");
    if current == wanted {
        return;
    }
    if std::env::var_os("FUSEGEN_BLESS").is_some() {
        let updated = format!("{}{begin}{wanted}{}", &text[..start], &text[end..]);
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
fn path_handlers_doc_matches_the_path_table() {
    check_between(
        "docs/handlers.md",
        (PATHS_BEGIN, PATHS_END),
        path_handlers_section(),
    );
}

#[test]
fn options_doc_matches_the_table() {
    check("docs/options.md", options_section());
}

/// `docs/guide.md` builds a filesystem in `rust` code blocks, each preceded by
/// `<!-- guide: TAGS -->`: the blocks tagged `ro` (in order) are the program of its step 3,
/// those tagged `rw` the finished one. Each program is an example (`examples/guide_ro.rs`,
/// `examples/guide.rs`) that `cargo test` builds and `tests/mount/guide.rs` mounts, so every
/// block of the guide compiles and works as the guide says.
const GUIDE_PROGRAMS: [(&str, &str, &str); 3] = [
    (
        "ro",
        "examples/guide_ro.rs",
        "//! The read-only filesystem of docs/guide.md, step 3: `cargo run --example guide_ro -- -f DIR`.\n",
    ),
    (
        "rw",
        "examples/guide.rs",
        "//! The finished filesystem of docs/guide.md, step 5 (a flat directory of files in memory,\n//! read and write): `cargo run --example guide -- -f DIR`, Ctrl-C unmounts.\n",
    ),
    (
        "paths",
        "examples/guide_paths.rs",
        "//! Step 5's filesystem with path-level handlers, from docs/guide.md step 6:\n//! `cargo run --example guide_paths -- -f DIR`, Ctrl-C unmounts.\n",
    ),
];

const GENERATED_NOTE: &str = "//!\n//! Generated from the guide's code blocks by tests/docs.rs: edit docs/guide.md, then run\n//! `FUSEGEN_BLESS=1 cargo test -p fusegen-tests --test docs`.\n\n";

/// The guide's `rust` blocks with their tags, in order.
fn guide_blocks(text: &str) -> Vec<(Vec<String>, String)> {
    let mut blocks = Vec::new();
    let mut tags: Option<Vec<String>> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("<!-- guide:") {
            let rest = rest.trim_end_matches("-->");
            tags = Some(rest.split_whitespace().map(String::from).collect());
        } else if line.trim_start().starts_with("```rust") {
            let mut code = String::new();
            for body in lines.by_ref() {
                if body.trim_start().starts_with("```") {
                    break;
                }
                code.push_str(body);
                code.push('\n');
            }
            let Some(block_tags) = tags.take() else {
                panic!(
                    "docs/guide.md: a rust block without a `<!-- guide: TAGS -->` line before it:\n{code}"
                );
            };
            blocks.push((block_tags, code));
        } else if !line.trim().is_empty() {
            tags = None;
        }
    }
    blocks
}

#[test]
fn guide_code_blocks_are_the_guide_examples() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("docs/guide.md")).unwrap();
    let blocks = guide_blocks(&text);
    assert!(blocks.len() >= 5, "the guide's blocks were not found");
    for (tag, path, header) in GUIDE_PROGRAMS {
        let parts: Vec<&str> = blocks
            .iter()
            .filter(|(tags, _)| tags.iter().any(|t| t == tag))
            .map(|(_, code)| code.as_str())
            .collect();
        let wanted = format!("{header}{GENERATED_NOTE}{}", parts.join("\n"));
        let current = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        if current == wanted {
            continue;
        }
        if std::env::var_os("FUSEGEN_BLESS").is_some() {
            std::fs::write(root.join(path), wanted).unwrap();
            continue;
        }
        panic!(
            "{path} differs from the `{tag}` blocks of docs/guide.md; run `FUSEGEN_BLESS=1 cargo test -p fusegen-tests --test docs`"
        );
    }
    for (tags, _) in &blocks {
        assert!(
            tags.iter()
                .all(|t| GUIDE_PROGRAMS.iter().any(|(p, _, _)| p == t)),
            "unknown guide tag in {tags:?}"
        );
    }
}

/// The README's `toml` block after `<!-- readme: dependencies` and its first `rust` block.
fn readme_crate(readme: &str) -> (String, String) {
    let after = readme
        .split_once("<!-- readme: dependencies")
        .expect("the README's dependencies marker")
        .1;
    let block = |text: &str, fence: &str| -> String {
        let start = text.find(fence).expect(fence) + fence.len();
        let body = &text[start..];
        let body = &body[body.find('\n').unwrap() + 1..];
        body[..body.find("\n```").expect("closing fence")].to_string()
    };
    (block(after, "```toml"), block(after, "```rust"))
}

/// The README's example, built as the new crate a user would make from the README alone:
/// its `[dependencies]` block (fusegen pointed at this checkout) and its code as `main.rs`.
/// The doctest of the same code runs with this workspace's dependencies, so it could not
/// see a dependency the README forgot to mention.
#[test]
fn readme_example_builds_as_a_new_crate() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let (dependencies, code) = readme_crate(&readme);
    let fusegen = root.join("fusegen").canonicalize().unwrap();
    let mut manifest = String::from(
        "[package]\nname = \"readme-example\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[workspace]\n\n",
    );
    let mut replaced = false;
    for line in dependencies.lines() {
        if line.starts_with("fusegen = ") {
            manifest.push_str(&format!("fusegen = {{ path = {:?} }}\n", fusegen));
            replaced = true;
        } else {
            manifest.push_str(line);
            manifest.push('\n');
        }
    }
    assert!(
        replaced,
        "no `fusegen = ` line in the README's dependencies:\n{dependencies}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), code).unwrap();
    // The workspace's lock file and target directory: the same versions, already built.
    std::fs::copy(root.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .nth(3)
        .expect("target/<profile>/deps/<test>");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", target.join("readme-example"))
        .output()
        .expect("run cargo build");
    assert!(
        out.status.success(),
        "the README's example does not build as a new crate:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The rows of the module map in `docs/architecture.md`: for each, the paths (relative to
/// `fusegen/src/`) in its first cell and the `.rs` files and folders named anywhere in it.
fn module_map() -> Vec<(Vec<String>, Vec<String>)> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let start = doc
        .find("## Module map")
        .expect("a `## Module map` section");
    let section = &doc[start..];
    let end = section
        .find("`fusegen-macros/src/`")
        .unwrap_or(section.len());
    let is_path = |t: &&str| t.ends_with(".rs") || t.ends_with('/');
    let ticked = |text: &str| -> Vec<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .filter(is_path)
            .map(str::to_string)
            .collect()
    };
    section[..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|row| {
            let first = row[1..].split(" | ").next().unwrap();
            (ticked(first), ticked(row))
        })
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file and folder under `fusegen/src/`, relative to it; folders end in `/`.
fn source_tree(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(base)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if path.is_dir() {
            out.push(format!("{rel}/"));
            source_tree(&path, base, out);
        } else if rel.ends_with(".rs") {
            out.push(rel);
        }
    }
}

#[test]
fn module_map_matches_the_source_tree() {
    let src = root().join("fusegen/src");
    let rows = module_map();
    assert!(rows.len() > 20, "the module map table was not found");
    let mut problems = Vec::new();
    // Every path in the map exists: keys and full paths as written, other names inside the
    // folder the row is about.
    for (keys, named) in &rows {
        let folders: Vec<&String> = keys.iter().filter(|k| k.ends_with('/')).collect();
        for key in keys {
            if !src.join(key).exists() {
                problems.push(format!("`{key}` is in the map but not in fusegen/src/"));
            }
        }
        for name in named.iter().filter(|n| !keys.contains(n)) {
            let found =
                src.join(name).exists() || folders.iter().any(|f| src.join(f).join(name).exists());
            if !found {
                problems.push(format!(
                    "`{name}` (row of `{}`) is not in fusegen/src/",
                    keys.join("`, `")
                ));
            }
        }
    }
    // Every file and folder has a row, or is named in its folder's row.
    let mut tree = Vec::new();
    source_tree(&src, &src, &mut tree);
    tree.sort();
    for path in &tree {
        let (parent, name) = match path.trim_end_matches('/').rsplit_once('/') {
            Some((parent, name)) => (
                format!("{parent}/"),
                name.to_string() + if path.ends_with('/') { "/" } else { "" },
            ),
            None => (String::new(), path.clone()),
        };
        let listed = rows.iter().any(|(keys, named)| {
            keys.contains(path)
                || named.contains(path)
                || (keys.contains(&parent) && named.contains(&name))
        });
        if !listed {
            problems.push(format!("fusegen/src/{path} is missing from the module map"));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/architecture.md's module map and fusegen/src/ disagree:\n{}",
        problems.join("\n")
    );
}
