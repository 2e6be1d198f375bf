//! The fast JSON writer the renderers use writes exactly what serde_json writes, on every fixture
//! and every corpus HL7 v2 message (serde_json stays the reference).

use passerelle_fhir::{RenderOptions, render_bundle, to_json};
use passerelle_gateway::codec::{InputFormat, decode};
use passerelle_testkit::{files_with_ext, shared_dir, workspace_root};

#[test]
fn the_fast_json_writer_matches_serde_json_on_fixtures_and_corpus() {
    let mut inputs = files_with_ext(&workspace_root().join("fixtures/hl7v2"), "hl7");
    inputs.extend(files_with_ext(&shared_dir().join("corpus"), "hl7"));
    let mut compared = 0;
    for input in inputs {
        let bytes = std::fs::read(&input).expect("read");
        let Ok(decoded) = decode(InputFormat::Hl7v2, &bytes) else { continue };
        let (bundle, _) = render_bundle(&decoded.message.value, &RenderOptions::default());
        let resource = bundle.into_resource();
        assert_eq!(to_json(&resource, 4096).expect("ours"), serde_json::to_vec(&resource).expect("serde_json"), "{}", input.display());
        compared += 1;
    }
    assert!(compared >= 18, "only {compared} messages compared");
}
