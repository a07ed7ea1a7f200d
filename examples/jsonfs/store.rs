//! Reading the JSON file, and writing it back atomically: the new document goes to a
//! temporary file in the same directory, is synced, and is renamed over the old one, so a
//! crash leaves either the old document or the new one, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn load(path: &Path) -> Result<Value, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: not valid JSON: {e}", path.display()))
}

/// Replaces the file at `path` with `doc`, pretty-printed.
pub fn save(path: &Path, doc: &Value) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(doc).map_err(std::io::Error::other)?;
    text.push(b'\n');
    let temp = temp_path(path);
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&text)?;
        file.sync_all()?;
        // Keep the document's permissions, not the default of a new file.
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, meta.permissions())?;
        }
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    // The rename is durable once the directory is synced.
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// `.NAME.jsonfs-tmp` next to `path` (same filesystem, so the rename is atomic).
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.jsonfs-tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.json");
        std::fs::write(&path, "{}").unwrap();
        save(&path, &serde_json::json!({"a": [1, "x"]})).unwrap();
        assert_eq!(load(&path).unwrap(), serde_json::json!({"a": [1, "x"]}));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["doc.json"]);
        assert!(
            load(&dir.path().join("missing.json"))
                .unwrap_err()
                .contains("missing.json")
        );
    }
}
