//! The runtime's layers (`docs/architecture.md`, "Module map") as a rule on its imports: every
//! `crate::…` path in `fusegen/src/` is resolved to the module it names, and the test fails on
//! an import a layer may not make, or on a cycle between modules.
//!
//! A unit is a top-level module (`session`, `mount`, `cli`, …) or, inside the layer folders
//! (`proto/`, `server/`, `transport/`, `api/`, `helpers/`), one file or subfolder of it
//! (`proto::request`, `transport::uring`); the folder's `mod.rs` is the unit named after the
//! folder (`server`). Tests (`*_tests.rs`, `*_tests/`) belong to the module they test.
//! Relative paths (`super::`, `self::`) stay inside one unit and are not followed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The folders that are layers, split into units one level down.
const LAYERS: &[&str] = &["proto", "server", "transport", "api", "helpers"];

/// What each layer (or top-level module) may import besides itself: a layer name allows all
/// of it, a `layer::unit` name only that unit. Anything not listed is refused.
const ALLOWED: &[(&str, &[&str])] = &[
    // The kernel structs its ioctls take.
    ("sys", &["proto::abi"]),
    ("mount", &["sys"]),
    // The protocol encodes the author's values (`api`) and negotiates from the mount options;
    // it knows no server, transport or helper.
    ("proto", &["api", "mount"]),
    // The author's API names the kernel's constants and the readdir reply it fills.
    ("api", &["proto::abi", "proto::dir", "mount"]),
    ("helpers", &["api", "proto", "mount"]),
    ("server", &["proto", "api", "mount", "sys"]),
    // Transports hold the server and hand it bytes.
    ("transport", &["server", "proto", "api", "mount", "sys"]),
    // The lifecycle wires the server and the transports together.
    (
        "session",
        &[
            "transport",
            "server",
            "proto",
            "api",
            "mount",
            "sys",
            "systemd",
        ],
    ),
    ("systemd", &[]),
    (
        "doctor",
        &["transport::dev", "proto", "api", "mount", "sys"],
    ),
    ("cli", &["session", "api", "mount", "sys", "systemd"]),
    ("testing", &["session", "server", "api", "mount"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fusegen/src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without `//` comments (doc comments included: their links are not imports).
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| line.find("//").map_or(line, |i| &line[..i]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a `crate::` prefix starts, with `{…}` groups expanded:
/// `crate::proto::{abi, reply::Reply}` gives `proto::abi` and `proto::reply::Reply`.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            rest = tail;
            continue;
        }
        let mut chars = tail.char_indices().peekable();
        tree(tail, &mut chars, Vec::new(), &mut out);
        rest = tail;
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

fn skip_space(chars: &mut Chars<'_>) {
    while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
}

fn ident(text: &str, chars: &mut Chars<'_>) -> Option<String> {
    let start = chars.peek()?.0;
    let mut end = start;
    while let Some((i, c)) = chars.next_if(|(_, c)| c.is_alphanumeric() || *c == '_') {
        end = i + c.len_utf8();
    }
    (end > start).then(|| text[start..end].to_string())
}

/// One use tree: `a::b::{c, d::e}`, `a::*`, `a as b`, or a path in an expression.
fn tree(text: &str, chars: &mut Chars<'_>, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    loop {
        skip_space(chars);
        match chars.peek().map(|&(_, c)| c) {
            Some('{') => {
                chars.next();
                loop {
                    skip_space(chars);
                    if chars.next_if(|(_, c)| *c == '}').is_some() || chars.peek().is_none() {
                        return;
                    }
                    tree(text, chars, prefix.clone(), out);
                    skip_space(chars);
                    chars.next_if(|(_, c)| *c == ',');
                }
            }
            Some('*') => {
                chars.next();
                break;
            }
            _ => match ident(text, chars) {
                Some(name) if name == "self" => {}
                Some(name) => prefix.push(name),
                None => break,
            },
        }
        // `::` continues the path; anything else ends it (`as x`, `;`, `(`, `,`, `}`).
        if chars.clone().take(2).map(|(_, c)| c).eq([':', ':']) {
            chars.next();
            chars.next();
        } else {
            break;
        }
    }
    // Skip `as alias` so the alias is not read as the next tree.
    skip_space(chars);
    if text[chars.peek().map_or(text.len(), |&(i, _)| i)..].starts_with("as ") {
        chars.next();
        chars.next();
        skip_space(chars);
        ident(text, chars);
    }
    if !prefix.is_empty() {
        out.push(prefix);
    }
}

struct Tree {
    root: PathBuf,
    /// `pub use` lines of `lib.rs`: a root name to the path it re-exports.
    reexports: BTreeMap<String, Vec<String>>,
    /// `pub use x::*` targets of `lib.rs`.
    globs: Vec<Vec<String>>,
}

impl Tree {
    fn load() -> Tree {
        let root = src();
        let lib = strip_comments(&std::fs::read_to_string(root.join("lib.rs")).unwrap());
        let mut reexports = BTreeMap::new();
        let mut globs = Vec::new();
        for stmt in lib.split(';') {
            let Some(i) = stmt.find("pub use ") else {
                continue;
            };
            let body = &stmt[i + "pub use ".len()..];
            // `pub use crate::…` only appears in `prelude` and `__private`, re-exporting
            // root names again.
            if body.starts_with("crate::") {
                continue;
            }
            // Written relative to the crate root; parse them as `crate::` paths.
            let body = format!("crate::{body}");
            let star = body.contains('*');
            for path in crate_paths(&body) {
                if star && body.contains(&format!("{}::*", path.join("::"))) {
                    globs.push(path);
                } else {
                    // The first wins: `Filesystem` is the trait, not the derive macro.
                    reexports
                        .entry(path.last().unwrap().clone())
                        .or_insert(path);
                }
            }
        }
        Tree {
            root,
            reexports,
            globs,
        }
    }

    fn is_module(&self, dir: &Path, name: &str) -> bool {
        dir.join(format!("{name}.rs")).is_file() || dir.join(name).is_dir()
    }

    /// The unit a file belongs to.
    fn unit_of_file(&self, file: &Path) -> Option<String> {
        let rel = file.strip_prefix(&self.root).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        let tested = |s: &str| s.strip_suffix("_tests").unwrap_or(s).to_string();
        match parts.as_slice() {
            [lib] if lib == "lib" => None,
            [one] => Some(tested(one)),
            [layer, rest @ ..] if LAYERS.contains(&layer.as_str()) => match rest {
                [m] if m == "mod" => Some(layer.clone()),
                [first, ..] => Some(format!("{layer}::{}", tested(first))),
                [] => unreachable!(),
            },
            [folder, ..] => Some(tested(folder)),
            [] => unreachable!(),
        }
    }

    /// The unit a `crate::` path names.
    fn unit_of_path(&self, path: &[String]) -> Option<String> {
        let first = path.first()?;
        if LAYERS.contains(&first.as_str()) {
            return Some(match path.get(1) {
                Some(second) if self.is_module(&self.root.join(first), second) => {
                    format!("{first}::{second}")
                }
                _ => first.clone(),
            });
        }
        if self.is_module(&self.root, first) {
            return Some(first.clone());
        }
        if let Some(target) = self.reexports.get(first) {
            return self.unit_of_path(target);
        }
        for glob in &self.globs {
            let file = self.root.join(glob.join("/")).with_extension("rs");
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let defines = ["struct", "enum", "trait", "type", "const", "fn"]
                .iter()
                .any(|kw| text.contains(&format!("pub {kw} {first}")));
            if defines {
                return self.unit_of_path(glob);
            }
        }
        None
    }

    /// Unit → (imported unit → one import that shows it).
    fn graph(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut files = Vec::new();
        rust_files(&self.root, &mut files);
        files.sort();
        let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut unresolved = Vec::new();
        for file in files {
            let Some(unit) = self.unit_of_file(&file) else {
                continue;
            };
            let text = strip_comments(&std::fs::read_to_string(&file).unwrap());
            let edges = graph.entry(unit.clone()).or_default();
            for path in crate_paths(&text) {
                let shown = format!(
                    "{}: crate::{}",
                    file.strip_prefix(&self.root).unwrap().display(),
                    path.join("::")
                );
                match self.unit_of_path(&path) {
                    Some(target) if target == unit => {}
                    Some(target) => {
                        edges.entry(target).or_insert(shown);
                    }
                    None => unresolved.push(shown),
                }
            }
        }
        assert!(
            unresolved.is_empty(),
            "imports this test cannot place in a module (teach `unit_of_path`):\n{}",
            unresolved.join("\n")
        );
        graph
    }
}

fn layer(unit: &str) -> &str {
    unit.split("::").next().unwrap()
}

#[test]
fn layers_import_only_what_they_may() {
    let tree = Tree::load();
    let graph = tree.graph();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut broken = Vec::new();
    for (from, edges) in &graph {
        let Some(may) = allowed.get(layer(from)) else {
            broken.push(format!(
                "`{from}` has no entry in ALLOWED (tests/architecture.rs)"
            ));
            continue;
        };
        for (to, shown) in edges {
            if layer(to) == layer(from) || may.contains(&to.as_str()) || may.contains(&layer(to)) {
                continue;
            }
            broken.push(format!("{from} -> {to} ({shown})"));
        }
    }
    assert!(
        broken.is_empty(),
        "imports across layers that docs/architecture.md does not allow:\n{}",
        broken.join("\n")
    );
    // The rule is not vacuous: the paths above were found and resolved.
    assert!(graph["transport::reader"].contains_key("server"));
    assert!(graph["server::dispatch"].contains_key("proto::request"));
    assert!(graph["proto::reply"].contains_key("api::types"));
}

#[test]
fn no_import_cycles_between_modules() {
    let graph = Tree::load().graph();
    // Depth-first search; a unit met again while on the stack closes a cycle.
    fn visit<'a>(
        unit: &'a str,
        graph: &'a BTreeMap<String, BTreeMap<String, String>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        cycles: &mut Vec<String>,
    ) {
        if done.contains(unit) {
            return;
        }
        if let Some(at) = stack.iter().position(|u| *u == unit) {
            let mut cycle: Vec<String> = Vec::new();
            for pair in stack[at..]
                .iter()
                .chain([&unit])
                .collect::<Vec<_>>()
                .windows(2)
            {
                cycle.push(format!("{} ({})", pair[0], graph[*pair[0]][*pair[1]]));
            }
            cycles.push(format!("{} -> {unit}", cycle.join(" -> ")));
            return;
        }
        stack.push(unit);
        if let Some(edges) = graph.get(unit) {
            for to in edges.keys() {
                visit(to, graph, stack, done, cycles);
            }
        }
        stack.pop();
        done.insert(unit);
    }
    let (mut stack, mut done, mut cycles) = (Vec::new(), BTreeSet::new(), Vec::new());
    for unit in graph.keys() {
        visit(unit, &graph, &mut stack, &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn use_trees_are_read_whole() {
    let paths = crate_paths(
        "use crate::proto::{abi, reply::{self, Reply}};\nlet x = crate::Errno::EIO; \
         use crate::a::b as c; fn f() -> crate::Result<()> {}",
    );
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "proto::abi",
            "proto::reply",
            "proto::reply::Reply",
            "Errno::EIO",
            "a::b",
            "Result"
        ]
    );
}
