//! What every fuzz target runs: a decoder on hostile bytes, then every rendering the gateway could
//! make of what it read, exactly through the gateway's own dispatch (`codec::decode`, `Renderer`).
//! A panic, an abort or a sanitizer report anywhere on that path is a finding.

use passerelle_fhir::{DocumentLayout, Profile, RenderOptions, render_bundle};
use passerelle_gateway::codec::{self, InputFormat};
use passerelle_gateway::config::DocumentRendering;
use passerelle_gateway::delivery::render::{Renderer, Source};
use tokio_util::codec::Decoder;

/// Decodes `bytes` as `format` and, when that works, renders the model as a FHIR Bundle (inline
/// and MHD layouts) and as each HL7 v2 / CDA rendering a destination can ask for.
pub fn decode_and_render(format: InputFormat, bytes: &[u8]) {
    let Ok(decoded) = codec::decode(format, bytes) else { return };
    let model = &decoded.message.value;
    let documents: Vec<_> = decoded.documents.iter().map(|d| d.as_fhir()).collect();
    for layout in [DocumentLayout::Inline, DocumentLayout::Mhd] {
        let options = RenderOptions { profile: Profile::Auto, documents: &documents, document_layout: layout, ..RenderOptions::default() };
        let (bundle, _) = render_bundle(model, &options);
        let _ = passerelle_fhir::to_json(&bundle.into_resource(), 4096);
    }
    let source = Source { model, hl7v2: decoded.hl7v2.as_ref(), documents: &decoded.documents };
    for rendering in [DocumentRendering::Mdm, DocumentRendering::Oru, DocumentRendering::Cda, DocumentRendering::FhirBundle, DocumentRendering::Mhd] {
        let _ = Renderer::for_rendering(rendering, Profile::Auto, None).render(&source);
    }
    if let Some(tokens) = decoded.hl7v2.as_ref() {
        let options = passerelle_hl7v2::ack::AckOptions { timestamp: "20260101000000", control_id: "FUZZ", application: "FUZZ", facility: "FUZZ" };
        let _ = passerelle_hl7v2::ack::build_ack(Some(tokens), passerelle_hl7v2::AckCode::Aa, &[], &options);
    }
}

/// Feeds `data` to the MLLP codec as a stream: the first byte sets the chunk size the rest
/// arrives in, then the stream closes (decode_eof); the frame limit is small so that the
/// too-large path is reached too.
pub fn mllp_stream(data: &[u8]) {
    let Some((&split, stream)) = data.split_first() else { return };
    let chunk = usize::from(split % 64) + 1;
    let mut codec = passerelle_hl7v2::MllpCodec::new(4096);
    let mut buffer = bytes::BytesMut::new();
    for piece in stream.chunks(chunk) {
        buffer.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buffer) {
                Ok(Some(frame)) => assert!(frame.len() <= 4096, "a frame over the limit was returned"),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    while let Ok(Some(_)) = codec.decode_eof(&mut buffer) {}
}
