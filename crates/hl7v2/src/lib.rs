//! hl7v2
