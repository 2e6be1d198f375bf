//! The fast JSON writer the renderers use writes exactly what serde_json writes, on every fixture
//! and every corpus HL7 v2 message (serde_json stays the reference), but for FHIR decimals: ours
//! copies their text as a JSON number where serde_json, not knowing them, writes a string.

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
        let (ours, reference) = (to_json(&resource, 4096).expect("ours"), serde_json::to_vec(&resource).expect("serde_json"));
        if ours != reference {
            let ours: serde_json::Value = serde_json::from_slice(&ours).expect("ours parses");
            let reference: serde_json::Value = serde_json::from_slice(&reference).expect("reference parses");
            assert!(same_but_decimals(&ours, &reference), "{}", input.display());
        }
        compared += 1;
    }
    assert!(compared >= 18, "only {compared} messages compared");
}

/// Equal JSON, where a number of ours may be the reference's string holding the same decimal.
fn same_but_decimals(ours: &serde_json::Value, reference: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (ours, reference) {
        (Value::Number(n), Value::String(s)) => s.parse::<f64>().ok() == n.as_f64(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_but_decimals(x, y)),
        (Value::Object(a), Value::Object(b)) => a.len() == b.len() && a.iter().zip(b).all(|((k, x), (l, y))| k == l && same_but_decimals(x, y)),
        _ => ours == reference,
    }
}

#[test]
fn every_commented_destination_example_of_the_default_config_starts_and_renderings_fit_their_transport() {
    use passerelle_gateway::config::Config;
    use passerelle_gateway::delivery::render::Renderer;
    // Uncommenting the examples of config/passerelle.toml gives a configuration that loads.
    let mut in_example = false;
    let uncommented: String = passerelle_gateway::config::EMBEDDED_DEFAULT
        .lines()
        .map(|l| {
            let rest = l.strip_prefix("# ").unwrap_or(l);
            let key_value = rest.split_once(" = ").is_some_and(|(k, _)| !k.is_empty() && k.bytes().all(|c| c.is_ascii_lowercase() || c == b'_'));
            in_example = rest == "[[destination]]" && l.starts_with("# ") || in_example && key_value && l.starts_with("# ");
            if in_example { rest } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = Config::parse(&uncommented, "uncommented.toml").expect("the commented examples parse");
    let renderings: Vec<_> = config.destinations.iter().map(|d| (d.name.as_str(), d.rendering.map(|r| r.as_str()))).collect();
    assert!(renderings.contains(&("dmp", Some("mhd"))) && renderings.contains(&("dpi", Some("mdm"))), "{renderings:?}");
    for d in &config.destinations {
        Renderer::new(d).unwrap_or_else(|e| panic!("{}: {e}", d.name));
    }
    let destination = |kind: &str, rendering: &str| {
        let address = if kind == "mllp" {
            "address = \"127.0.0.1:1\""
        } else if kind == "file" {
            "dir = \"/tmp\""
        } else {
            "url = \"http://127.0.0.1:1/\""
        };
        let text = format!("[store]\npath = \"/tmp/unused.db\"\n[[destination]]\nname = \"d\"\nkind = \"{kind}\"\nrendering = \"{rendering}\"\n{address}\n");
        let config = Config::parse(&text, "d.toml").expect("parses");
        Renderer::new(&config.destinations[0]).map(|_| ()).map_err(|e| e.to_string())
    };
    assert!(destination("mllp", "mdm").is_ok() && destination("mllp", "oru").is_ok());
    assert!(destination("mllp", "fhir-bundle").is_err_and(|e| e.contains("mllp carries hl7v2 only")));
    assert!(destination("mllp", "cda").is_err());
    assert!(destination("fhir_http", "mhd").is_ok());
    assert!(destination("fhir_http", "mdm").is_err_and(|e| e.contains("fhir_http carries fhir only")));
    assert!(destination("file", "cda").is_ok() && destination("http", "cda").is_ok());
}
