//! How JSON keys become file names and scalars become file contents, both ways, so that
//! reading a file and writing the same bytes back never changes the document.

use serde_json::Value;

/// The file name of an object key: `%` and `/` are escaped as `%25` and `%2F` (a name cannot
/// contain `/`), and the names a directory cannot hold get an escaped form: the empty key is
/// `%`, `.` is `%2E` and `..` is `%2E%2E`.
pub fn key_to_name(key: &str) -> String {
    match key {
        "" => "%".to_string(),
        "." => "%2E".to_string(),
        ".." => "%2E%2E".to_string(),
        _ => key.replace('%', "%25").replace('/', "%2F"),
    }
}

/// The key of a file name ([`key_to_name`] reversed); `None` for a name that cannot come from
/// a key (a `%` not followed by two hex digits, other than the lone `%`), or a NUL.
pub fn name_to_key(name: &str) -> Option<String> {
    if name == "%" {
        return Some(String::new());
    }
    let mut bytes = Vec::with_capacity(name.len());
    let mut rest = name.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = tail.get(..2)?;
            let hex = std::str::from_utf8(hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    let key = String::from_utf8(bytes).ok()?;
    (!key.contains('\0')).then_some(key)
}

/// The position of an array element from its file name: `0`, `1`, … without leading zeros.
pub fn name_to_index(name: &str) -> Option<u64> {
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// The value of a file's content: one trailing newline is dropped, then text that is a JSON
/// scalar (`42`, `true`, `null`, `"quoted"`) is that scalar, and anything else is a string
/// as written. Bytes that are not UTF-8 are replaced (U+FFFD), as JSON holds text only.
pub fn content_to_value(content: &[u8]) -> Value {
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    let text = String::from_utf8_lossy(content);
    match serde_json::from_str::<Value>(&text) {
        Ok(v) if !v.is_object() && !v.is_array() => v,
        _ => Value::String(text.into_owned()),
    }
}

/// The content of a scalar's file, ending in a newline: strings as they are, unless reading
/// them back would give another value (`"42"`, `"true"`, a string with quotes or surrounding
/// spaces): then quoted as JSON. Other scalars as JSON.
pub fn value_to_content(value: &Value) -> Vec<u8> {
    let mut text = match value {
        Value::String(s) => {
            let raw = format!("{s}\n");
            if content_to_value(raw.as_bytes()) == *value {
                return raw.into_bytes();
            }
            value.to_string()
        }
        other => other.to_string(),
    };
    text.push('\n');
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_round_trip_through_names() {
        for key in ["plain", "", ".", "..", "a/b", "100%", "%2F", "...", "é"] {
            let name = key_to_name(key);
            assert!(!name.contains('/') && !name.is_empty() && name != "." && name != "..");
            assert_eq!(name_to_key(&name).as_deref(), Some(key), "{name}");
        }
        assert_eq!(key_to_name("a/b"), "a%2Fb");
        assert_eq!(name_to_key("50%"), None);
        assert_eq!(name_to_key("%zz"), None);
        assert_eq!(name_to_key("%00"), None);
    }

    #[test]
    fn array_names_are_plain_indices() {
        assert_eq!(name_to_index("0"), Some(0));
        assert_eq!(name_to_index("17"), Some(17));
        for bad in ["", "01", "-1", "+1", "1.0", "x", " 1"] {
            assert_eq!(name_to_index(bad), None, "{bad}");
        }
    }

    #[test]
    fn scalars_round_trip_through_contents() {
        let values = [
            json!("hello"),
            json!("42"),
            json!("true"),
            json!(""),
            json!(" padded "),
            json!("\"quoted\""),
            json!("two\nlines\n"),
            json!("[1, 2]"),
            json!(42),
            json!(-1.5),
            json!(true),
            json!(null),
        ];
        for v in values {
            let content = value_to_content(&v);
            assert!(content.ends_with(b"\n"));
            assert_eq!(content_to_value(&content), v, "{content:?}");
        }
        assert_eq!(value_to_content(&json!("hello")), b"hello\n");
        assert_eq!(value_to_content(&json!("42")), b"\"42\"\n");
    }

    #[test]
    fn written_text_is_typed_by_its_form() {
        assert_eq!(content_to_value(b"12\n"), json!(12));
        assert_eq!(content_to_value(b"false"), json!(false));
        assert_eq!(content_to_value(b"hello world\n"), json!("hello world"));
        assert_eq!(content_to_value(b"{\"a\": 1}\n"), json!("{\"a\": 1}"));
        assert_eq!(content_to_value(b""), json!(""));
    }
}
