//! Differential test: our tokenizer against hl7-parser 0.3 (the design card's crate) as an oracle,
//! on our fixtures and the shared corpus, wherever hl7-parser reads the whole message.

use passerelle_hl7v2::{ParseOptions, parse};
use std::path::{Path, PathBuf};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = vec![root.join("fixtures/hl7v2/ok")];
    let shared = std::env::var_os("PASSERELLE_VERIFY_DIR").map_or_else(|| root.join("../shared"), |v| PathBuf::from(v).join(".."));
    let corpus = shared.join("corpus/hl7v2");
    if corpus.exists() {
        dirs.push(corpus);
    } else {
        eprintln!("SKIPPED part: shared corpus not found at {}", corpus.display());
    }
    let mut files = Vec::new();
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "hl7") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn tokenizer_agrees_with_hl7_parser_where_it_reads_everything() {
    let (mut compared, mut skipped) = (0, 0);
    for path in inputs() {
        let bytes = std::fs::read(&path).expect("read");
        let Ok(text) = std::str::from_utf8(&bytes) else {
            skipped += 1;
            continue;
        };
        // The oracle needs CR terminators, no BOM, no blank lines (it drops segments otherwise).
        let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\r").replace('\n', "\r");
        let text: String = text.split('\r').filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\r");
        let Ok(theirs) = hl7_parser::Message::parse(&text) else {
            skipped += 1;
            continue;
        };
        let their_segments: Vec<_> = theirs.segments().collect();
        if their_segments.len() != text.split('\r').count() || text.get(4..9).is_none_or(|enc| enc.as_bytes()[4] != b'|') {
            // hl7-parser mis-numbers MSH when MSH-2 is not exactly four characters.
            skipped += 1;
            continue;
        }
        let ours = match parse(text.as_bytes(), &ParseOptions::default()) {
            Ok(p) => p.value,
            // hl7-parser accepts an empty MSH-2 and guesses; we refuse (the sender gets AR).
            Err(_) if text.starts_with("MSH||") => {
                skipped += 1;
                continue;
            }
            Err(e) => panic!("{}: {e}", path.display()),
        };
        let our_segments: Vec<_> = ours.segments().collect();
        assert_eq!(our_segments.len(), their_segments.len(), "{}", path.display());
        for (o, t) in our_segments.iter().zip(&their_segments) {
            assert_eq!(o.name(), t.name, "{}", path.display());
            let first = if t.name == "MSH" { 3 } else { 1 };
            for n in first..=o.field_count().max(t.fields.len()) {
                let theirs = t.field(n).map_or("", |f| f.raw_value());
                let ours = String::from_utf8_lossy(o.field(n).raw());
                assert_eq!(ours, theirs, "{} {}-{n}", path.display(), t.name);
            }
        }
        compared += 1;
    }
    eprintln!("compared {compared} messages with hl7-parser, skipped {skipped}");
    assert!(compared >= 10, "too few messages compared: {compared}");
}
