//! Errors for bytes that cannot be framed as HL7 v2 at all; everything else is a diagnostic.

/// Why the bytes are not an HL7 v2 message. Each maps to an HL7 table 0357 code for the ACK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("empty message")]
    Empty,
    #[error("message does not start with an MSH segment")]
    NoMsh,
    #[error("MSH segment too short to read the delimiters")]
    TruncatedMsh,
    #[error("invalid delimiters in MSH-1/MSH-2: {0}")]
    BadDelimiters(&'static str),
}

impl Error {
    /// HL7 table 0357 code: 100 segment sequence error, 102 data type error.
    pub fn hl7_error_code(&self) -> &'static str {
        match self {
            Error::Empty | Error::NoMsh => "100",
            Error::TruncatedMsh | Error::BadDelimiters(_) => "102",
        }
    }
}
