//! Delimiters read from MSH-1 and MSH-2, including the v2.7 truncation character.

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: u8,
    pub component: u8,
    pub repetition: u8,
    /// `None` when MSH-2 declares no escape character (escapes are then not decoded).
    pub escape: Option<u8>,
    pub subcomponent: u8,
    /// v2.7+ truncation character (MSH-2 fifth character), usually `#`.
    pub truncation: Option<u8>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Self { field: b'|', component: b'^', repetition: b'~', escape: Some(b'\\'), subcomponent: b'&', truncation: None }
    }
}

impl Delimiters {
    /// Reads the delimiters from the bytes after `MSH`; returns them, the length of MSH-2 and
    /// whether MSH-2 had to be repaired (a doubled character, as in `^~\\&`, is read once).
    pub fn from_msh(after_name: &[u8]) -> Result<(Self, usize, bool), Error> {
        let (&field, rest) = after_name.split_first().ok_or(Error::TruncatedMsh)?;
        let encoding_len = rest.iter().position(|&b| b == field || b == b'\r' || b == b'\n').unwrap_or(rest.len());
        let enc = &rest[..encoding_len];
        match Self::from_encoding(field, enc) {
            Ok(d) => Ok((d, encoding_len, false)),
            Err(e) => {
                let mut dedup = enc.to_vec();
                dedup.dedup();
                if dedup.len() == enc.len() || dedup != b"^~\\&" {
                    return Err(e);
                }
                Self::from_encoding(field, &dedup).map(|d| (d, encoding_len, true)).map_err(|_| e)
            }
        }
    }

    fn from_encoding(field: u8, enc: &[u8]) -> Result<Self, Error> {
        if enc.len() < 2 {
            return Err(Error::TruncatedMsh);
        }
        if enc.len() > 5 {
            return Err(Error::BadDelimiters("MSH-2 has more than five characters"));
        }
        let d = Self {
            field,
            component: enc[0],
            repetition: enc[1],
            escape: enc.get(2).copied(),
            subcomponent: enc.get(3).copied().unwrap_or(b'&'),
            truncation: enc.get(4).copied(),
        };
        d.validate()?;
        Ok(d)
    }

    fn validate(&self) -> Result<(), Error> {
        let mut all = vec![self.field, self.component, self.repetition, self.subcomponent];
        all.extend(self.escape);
        all.extend(self.truncation);
        if all.iter().any(|b| b.is_ascii_alphanumeric() || b.is_ascii_whitespace() || !b.is_ascii() || b.is_ascii_control()) {
            return Err(Error::BadDelimiters("a delimiter is alphanumeric, blank, a control character or not ASCII"));
        }
        for (i, a) in all.iter().enumerate() {
            if all[i + 1..].contains(a) {
                return Err(Error::BadDelimiters("two delimiters are the same character"));
            }
        }
        Ok(())
    }

    /// MSH-2 as written: component, repetition, escape, subcomponent, truncation.
    pub fn encoding_characters(&self) -> Vec<u8> {
        let mut v = vec![self.component, self.repetition];
        v.extend(self.escape);
        v.push(self.subcomponent);
        v.extend(self.truncation);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_standard_custom_and_truncation_delimiters() {
        let (d, n, _) = Delimiters::from_msh(b"|^~\\&|APP").expect("std");
        assert_eq!((d, n), (Delimiters::default(), 4));
        let (d, n, _) = Delimiters::from_msh(b"|^~\\&#|APP").expect("v2.7");
        assert_eq!((d.truncation, n), (Some(b'#'), 5));
        let (d, n, repaired) = Delimiters::from_msh(b"|^~\\\\&|APP").expect("doubled escape");
        assert_eq!((d, n, repaired), (Delimiters::default(), 5, true));
        let (d, _, _) = Delimiters::from_msh(b"#*!?@#APP").expect("custom");
        assert_eq!((d.field, d.component, d.repetition, d.escape, d.subcomponent), (b'#', b'*', b'!', Some(b'?'), b'@'));
    }

    #[test]
    fn rejects_unusable_delimiters() {
        assert_eq!(Delimiters::from_msh(b"|^|"), Err(Error::TruncatedMsh));
        assert!(matches!(Delimiters::from_msh(b"|^~\\&\\|"), Err(Error::BadDelimiters(_))));
        assert!(matches!(Delimiters::from_msh(b"|^^\\&|"), Err(Error::BadDelimiters(_))));
        assert!(matches!(Delimiters::from_msh(b"|ab\\&|"), Err(Error::BadDelimiters(_))));
        assert_eq!(Delimiters::from_msh(b""), Err(Error::TruncatedMsh));
    }
}
