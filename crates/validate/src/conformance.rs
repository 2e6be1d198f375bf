//! The rules of `passerelle conformance run`: what is checked of each ACK a vendor's receiver
//! answers to a suite's messages. They share the report model (and formats) of `validate`.

use crate::report::PackId;

pub const PACK: PackId = PackId { name: "conformance", version: "2026.12" };

pub const RULES: &[(&str, &str)] = &[
    ("conformance.connect", "the receiver accepts the connection (and the TLS handshake when asked)"),
    ("conformance.ack.missing", "an ACK comes back for every message, within the timeout, on an open connection"),
    ("conformance.ack.valid", "the ACK is a valid HL7 v2 message (MSH required fields and forms, an MSA segment)"),
    ("conformance.ack.type", "the ACK's MSH-9 is ACK (with the trigger of the message acknowledged)"),
    ("conformance.ack.msa2", "MSA-2 is the MSH-10 of the message acknowledged"),
    ("conformance.ack.code", "MSA-1 is the expected outcome: AA/CA for a conformant message, AE/AR/CE/CR for one that breaks a rule"),
    ("conformance.ack.err", "an ACK that refuses a message says why in at least one ERR segment"),
];
