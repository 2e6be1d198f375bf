//! Indents compact JSON the way `serde_json::to_string_pretty` does, token by token, so numbers
//! keep the exact text the writer gave them (a decimal's `5.40` is not re-read as a float).

/// `compact` (valid JSON without insignificant whitespace) with two-space indentation.
pub fn pretty(compact: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(compact.len() + compact.len() / 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    };
    let mut i = 0;
    while i < compact.len() {
        let b = compact[i];
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                out.push(b);
                if compact.get(i + 1) == Some(&close) {
                    out.push(close);
                    i += 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pretty;

    #[test]
    fn indents_exactly_like_serde_json_and_keeps_number_text() {
        let value = serde_json::json!({"a": [1, {"b": "x:{,}\"\\"}, [], {}], "c": {"d": null, "e": true}, "f": "é"});
        let compact = serde_json::to_vec(&value).expect("json");
        assert_eq!(String::from_utf8(pretty(&compact)).expect("utf8"), serde_json::to_string_pretty(&value).expect("pretty"));
        assert_eq!(pretty(br#"{"value":5.40}"#), b"{\n  \"value\": 5.40\n}");
    }
}
