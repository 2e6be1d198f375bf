//! HL7 v2 ER7: a borrowing byte-level tokenizer, escapes and charsets, a writer, the ACK builder,
//! the MLLP codec, and the mapping of ADT (PAM-FR) messages into `passerelle_model`.
//!
//! Parsing is total: [`parse`] returns the message plus diagnostics; only bytes that cannot be
//! framed as HL7 v2 at all (no MSH, unusable delimiters) are an [`Error`]. Nothing here panics on
//! input, logs, or touches a socket, a file or the clock.

pub mod ack;
pub mod batch;
pub mod charset;
pub mod compose;
pub mod delimiters;
pub mod error;
pub mod escape;
pub mod mllp;
pub mod normalise;
pub mod tables;
pub mod tokenizer;
pub mod writer;

pub use ack::{AckCode, AckOptions, ErrorCondition, build_ack, build_reject, read_ack};
pub use charset::Charset;
pub use delimiters::Delimiters;
pub use error::Error;
pub use mllp::{MllpCodec, MllpError};
pub use normalise::{NormaliseOptions, PamFrMode, normalise};
pub use passerelle_model::base64::decode as decode_base64;
pub use tokenizer::{Field, Message, ParseOptions, Segment, parse};
pub use writer::Er7Writer;

/// Tokenizes and normalises in one call: the gateway's decode step (which `passerelle convert`
/// shares). Returns the model with the diagnostics of both stages merged in order, and the tokens
/// (for the ACK and for re-encoding).
pub fn decode<'a>(
    input: &'a [u8],
    parse_options: &ParseOptions,
    normalise_options: &NormaliseOptions,
) -> Result<(passerelle_model::Parsed<passerelle_model::Message>, Message<'a>), Error> {
    let tokens = parse(input, parse_options)?;
    let mut normalised = normalise(&tokens.value, normalise_options);
    let mut issues = tokens.issues;
    issues.append(&mut normalised.issues);
    normalised.issues = issues;
    Ok((normalised, tokens.value))
}
