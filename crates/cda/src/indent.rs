//! A document indented for reading (the console's lineage page): each element on its own line,
//! two spaces a level, text kept as it was escaped. For display only: what is journaled,
//! rendered and delivered is always the bytes as received.

use quick_xml::Reader;
use quick_xml::events::Event;

/// `raw` indented, or `None` when it is not well-formed XML (shown as received then). Each
/// markup item is copied byte for byte from `raw`; only whitespace between elements changes.
pub fn indent_xml(raw: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(raw);
    let mut out: Vec<u8> = Vec::with_capacity(raw.len() + raw.len() / 4);
    let (mut depth, mut before, mut after_text) = (0usize, 0usize, false);
    let new_line = |out: &mut Vec<u8>, depth: usize| {
        if !out.is_empty() {
            out.push(b'\n');
            out.resize(out.len() + 2 * depth, b' ');
        }
    };
    loop {
        let event = reader.read_event().ok()?;
        let at = usize::try_from(reader.buffer_position()).ok()?;
        let span = raw.get(before..at)?;
        before = at;
        match event {
            Event::Eof => break,
            Event::Text(_) if span.iter().all(u8::is_ascii_whitespace) => continue,
            Event::Text(_) | Event::GeneralRef(_) | Event::CData(_) => {
                out.extend_from_slice(span);
                after_text = true;
                continue;
            }
            Event::Start(_) => {
                new_line(&mut out, depth);
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.checked_sub(1)?;
                if !after_text {
                    new_line(&mut out, depth);
                }
            }
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => new_line(&mut out, depth),
        }
        out.extend_from_slice(span);
        after_text = false;
    }
    if depth != 0 {
        return None;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_go_one_a_line() {
        let raw = br#"<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2.3"/><title>CR &amp; suite</title></ClinicalDocument>"#;
        let shown = indent_xml(raw).unwrap_or_default();
        assert_eq!(
            shown,
            "<?xml version=\"1.0\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n  <id root=\"1.2.3\"/>\n  <title>CR &amp; suite</title>\n</ClinicalDocument>"
        );
    }

    #[test]
    fn what_is_not_xml_is_left_alone() {
        assert_eq!(indent_xml(b"<a><b></a>"), None);
        assert_eq!(indent_xml(b"<a>"), None);
        assert_eq!(indent_xml(b"<a>x</b>"), None);
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    /// Every CDA fixture indents, and only whitespace changes.
    #[test]
    fn every_fixture_document_indents_with_only_whitespace_changed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/cda/ok");
        let strip = |b: &[u8]| b.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect::<Vec<u8>>();
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "xml") {
                let raw = std::fs::read(&path).expect("read");
                let shown = indent_xml(&raw).unwrap_or_else(|| panic!("{} does not indent", path.display()));
                assert_eq!(strip(shown.as_bytes()), strip(&raw), "{}", path.display());
                assert!(shown.lines().count() > 10, "{} is on its lines", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 3, "{seen} fixtures");
    }
}
