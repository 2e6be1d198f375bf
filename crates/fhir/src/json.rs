//! A compact JSON writer for the resources we emit: a `serde::Serializer` into a pre-sized buffer
//! that copies struct keys as they are (they are Rust identifiers, never escaped) and copies strings
//! that need no escaping in one piece. Same output as `serde_json::to_vec`, in less time.

use serde::ser::{self, Serialize};
use std::fmt::Display;

/// Why a value could not be written (only a non-string map key or a custom error can cause it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write json: {0}")]
pub struct JsonError(String);

impl ser::Error for JsonError {
    fn custom<T: Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Serialises `value` as compact JSON into a buffer of `capacity` bytes to start with.
pub fn to_json<T: Serialize + ?Sized>(value: &T, capacity: usize) -> Result<Vec<u8>, JsonError> {
    let mut out = Vec::with_capacity(capacity);
    value.serialize(&mut JsonWriter { out: &mut out, raw_number: false })?;
    Ok(out)
}

pub struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    /// The next string is a decimal's text, written as a JSON number (see [`DECIMAL_TOKEN`]).
    raw_number: bool,
}

/// The newtype name under which a FHIR decimal hands its text over: this writer copies it as a
/// number, so `5.40` stays `5.40` (other serializers see a string).
pub const DECIMAL_TOKEN: &str = "$passerelle::decimal";

const HEX: &[u8; 16] = b"0123456789abcdef";

/// True for bytes JSON strings cannot hold as they are.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Eight bytes at a time: whether any is a control character, a quote or a backslash (the usual
/// "has a zero byte" and "has a byte below n" word tricks; bytes ≥ 0x80 never match).
fn word_needs_escape(word: u64) -> bool {
    let below_space = word.wrapping_sub(LOW * 0x20) & !word;
    let quote = word ^ (LOW * u64::from(b'"'));
    let backslash = word ^ (LOW * u64::from(b'\\'));
    let zero = |x: u64| x.wrapping_sub(LOW) & !x;
    (below_space | zero(quote) | zero(backslash)) & HIGH != 0
}

/// Offset of the first byte to escape, if any.
fn first_escape(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if word_needs_escape(u64::from_le_bytes(word)) {
            return chunk.iter().position(|&b| needs_escape(b)).map(|i| offset + i);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&b| needs_escape(b)).map(|i| offset + i)
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_escaped(out, s);
    out.push(b'"');
}

/// The JSON string body of `s` (no quotes).
fn write_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let Some(first) = first_escape(bytes) else {
        out.extend_from_slice(bytes);
        return;
    };
    out.extend_from_slice(&bytes[..first]);
    let mut start = first;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// `fmt::Write` into a JSON string body, escaping as it goes (for `collect_str`).
struct EscapingWriter<'o>(&'o mut Vec<u8>);

impl std::fmt::Write for EscapingWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        write_escaped(self.0, s);
        Ok(())
    }
}

fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Objects and arrays being written: whether a comma is due before the next member.
pub struct Compound<'w, 'a> {
    writer: &'w mut JsonWriter<'a>,
    first: bool,
    /// What ends it: `]`, `}`, or `]}` / `}}` for an enum variant wrapped in an object.
    close: &'static [u8],
}

impl Compound<'_, '_> {
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.writer.out.push(b',');
        }
    }
    /// A struct field name: a Rust identifier (or its serde rename), which never needs escaping.
    fn key(&mut self, key: &str) {
        self.comma();
        let out = &mut *self.writer.out;
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    }
    fn end_compound(self) {
        self.writer.out.extend_from_slice(self.close);
    }
}

impl<'w, 'a> ser::Serializer for &'w mut JsonWriter<'a> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), JsonError> {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), JsonError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), JsonError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), JsonError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), JsonError> {
        if v < 0 {
            self.out.push(b'-');
        }
        write_u64(self.out, v.unsigned_abs());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), JsonError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), JsonError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), JsonError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), JsonError> {
        write_u64(self.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), JsonError> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), JsonError> {
        if v.is_finite() {
            self.out.extend_from_slice(v.to_string().as_bytes());
        } else {
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), JsonError> {
        write_str(self.out, v.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), JsonError> {
        if std::mem::take(&mut self.raw_number) {
            self.out.extend_from_slice(v.as_bytes());
        } else {
            write_str(self.out, v);
        }
        Ok(())
    }
    /// Writes a `Display` value straight into the output (a document's base64 is never built
    /// as a string first), as serde_json does.
    fn collect_str<T: ?Sized + std::fmt::Display>(self, value: &T) -> Result<(), JsonError> {
        use std::fmt::Write;
        self.out.push(b'"');
        write!(EscapingWriter(self.out), "{value}").map_err(|e| JsonError(e.to_string()))?;
        self.out.push(b'"');
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), JsonError> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), JsonError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), JsonError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), JsonError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), JsonError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), JsonError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<(), JsonError> {
        self.raw_number = name == DECIMAL_TOKEN;
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, variant: &'static str, value: &T) -> Result<(), JsonError> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'w, 'a>, JsonError> {
        self.out.push(b'[');
        Ok(Compound { writer: self, first: true, close: b"]" })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'a>, JsonError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'w, 'a>, JsonError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Compound<'w, 'a>, JsonError> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":[");
        Ok(Compound { writer: self, first: true, close: b"]}" })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'w, 'a>, JsonError> {
        self.out.push(b'{');
        Ok(Compound { writer: self, first: true, close: b"}" })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'w, 'a>, JsonError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Compound<'w, 'a>, JsonError> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":{");
        Ok(Compound { writer: self, first: true, close: b"}}" })
    }
}

/// Arrays: the sequence, tuple and tuple-variant serialisers differ only in their method's name.
macro_rules! array_members {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = JsonError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
                self.comma();
                value.serialize(&mut *self.writer)
            }
            fn end(self) -> Result<(), JsonError> {
                self.end_compound();
                Ok(())
            }
        }
    )*};
}

array_members!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), JsonError> {
        self.comma();
        let start = self.writer.out.len();
        key.serialize(&mut *self.writer)?;
        if self.writer.out.get(start) != Some(&b'"') {
            return Err(JsonError("a map key must be a string".into()));
        }
        self.writer.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), JsonError> {
        self.end_compound();
        Ok(())
    }
}

/// Objects with known keys: structs and struct variants.
macro_rules! object_members {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = JsonError;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), JsonError> {
                self.key(key);
                value.serialize(&mut *self.writer)
            }
            fn end(self) -> Result<(), JsonError> {
                self.end_compound();
                Ok(())
            }
        }
    )*};
}

object_members!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    #[serde(tag = "kind")]
    enum Tagged {
        Item { text: String, n: i64, list: Vec<Option<bool>> },
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let values = [
            Tagged::Item { text: "plain".into(), n: -42, list: vec![Some(true), None, Some(false)] },
            Tagged::Item { text: "quote \" backslash \\ newline \n tab \t nul \u{0} unit \u{1f} é 日本".into(), n: i64::MIN, list: vec![] },
        ];
        for v in &values {
            assert_eq!(to_json(v, 64).expect("ours"), serde_json::to_vec(v).expect("serde_json"));
        }
        #[derive(Serialize)]
        enum Shapes {
            Unit,
            Newtype(u8),
            Tuple(u8, &'static str),
            Struct { a: Option<u8>, b: (bool, char) },
        }
        for v in [Shapes::Unit, Shapes::Newtype(7), Shapes::Tuple(1, "x"), Shapes::Struct { a: None, b: (true, 'é') }] {
            assert_eq!(to_json(&v, 16).expect("ours"), serde_json::to_vec(&v).expect("serde_json"));
        }
        let map: std::collections::BTreeMap<&str, u8> = [("a", 1), ("b\"", 2)].into_iter().collect();
        assert_eq!(to_json(&map, 8).expect("map"), serde_json::to_vec(&map).expect("serde_json"));
    }
}
