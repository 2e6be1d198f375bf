//! Clinical content beside the patient: results (reports with typed observations and specimens),
//! orders, an appointment and immunizations, as ORU, ORM/OML, SIU and VXU carry them.

use crate::datetime::PartialDateTime;
use crate::document::Code;
use crate::encounter::{AttendingDoctor, Encounter};
use serde::{Deserialize, Serialize};

/// A decimal number exactly as sent, normalised to JSON number syntax (`+05.10` → `5.10`): the
/// precision a result was reported with is kept, never rounded through a float.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Decimal(String);

impl Decimal {
    /// Parses `[+-]digits[.digits]` (leading zeros dropped); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let (negative, unsigned) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || (unsigned.contains('.') && frac.is_empty() && int.is_empty()) {
            return None;
        }
        let int = int.trim_start_matches('0');
        let mut s = String::with_capacity(t.len() + 1);
        if negative && (int.bytes().chain(frac.bytes()).any(|b| b != b'0')) {
            s.push('-');
        }
        s.push_str(if int.is_empty() { "0" } else { int });
        if !frac.is_empty() {
            s.push('.');
            s.push_str(frac);
        }
        Some(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A number with its comparator and unit (NM with OBX-6, SN, RXA-6/7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quantity {
    pub value: Decimal,
    /// `<`, `<=`, `>=` or `>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Code>,
}

/// An observation's value with its type kept (HL7 v2 OBX-2 decides which).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
pub enum ObservationValue {
    #[default]
    None,
    Quantity(Quantity),
    Coded(Vec<Code>),
    Text(String),
    DateTime(PartialDateTime),
    /// `HH:MM[:SS]`.
    Time(String),
    Range {
        #[serde(skip_serializing_if = "Option::is_none")]
        low: Option<Quantity>,
        #[serde(skip_serializing_if = "Option::is_none")]
        high: Option<Quantity>,
    },
    Ratio {
        numerator: Quantity,
        denominator: Quantity,
    },
}

/// One OBX: what was observed, its value, and how it is to be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Observation {
    /// OBX-3 (LOINC, MDC, local) with its alternate coding.
    pub code: Vec<Code>,
    /// OBX-4, the sub-id that groups a device's observations (telemonitoring `1.2.1.3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_id: Option<String>,
    pub value: ObservationValue,
    /// OBX-7.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_range: Option<String>,
    /// OBX-8 abnormal flags (HL7 table 0078).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interpretation: Vec<String>,
    /// OBX-11 result status (HL7 table 0085).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// OBX-14.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<PartialDateTime>,
    /// OBX-17 observation method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Code>,
    /// OBX-18 equipment instance identifier (the device that measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// NTE after the OBX.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// SPM (or OBR-15 in older versions): the specimen a report's results were measured on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Specimen {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specimen_type: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collected: Option<PartialDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<PartialDateTime>,
}

/// An order (ORC with its OBR): placer and filler numbers, what is asked, by whom, its state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Order {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placer_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filler_number: Option<String>,
    /// ORC-1 order control (NW, CA, SC…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// ORC-5 order status (HL7 table 0038).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// OBR-4 universal service identifier.
    pub code: Vec<Code>,
    /// ORC-9.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authored: Option<PartialDateTime>,
    /// ORC-12 or OBR-16.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<AttendingDoctor>,
}

/// A report (OBR and its OBX): the order it answers, its status, its observations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    pub order: Order,
    /// OBR-25 result status (HL7 table 0123).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// OBR-7 observation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<PartialDateTime>,
    /// OBR-22 results report time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<PartialDateTime>,
    pub observations: Vec<Observation>,
    pub specimens: Vec<Specimen>,
}

/// One who or what takes part in an appointment (AIP person, AIL location, AIS/AIG resource).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppointmentParticipant {
    /// `practitioner`, `location` or `resource`.
    pub role: String,
    pub display: String,
}

/// SCH with its resources: an appointment booked, rescheduled, modified or cancelled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Appointment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filler_id: Option<String>,
    /// SCH-25 filler status code, else implied by the trigger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filler_status: Option<String>,
    /// SCH-7.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Code>,
    /// SCH-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment_type: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<PartialDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<PartialDateTime>,
    /// SCH-9 in minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    pub participants: Vec<AppointmentParticipant>,
}

/// RXA (with RXR): one vaccine given, or recorded as not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Immunization {
    /// RXA-5 (CVX, or a national code).
    pub vaccine: Vec<Code>,
    /// RXA-3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrence: Option<PartialDateTime>,
    /// RXA-6 with RXA-7 (absent when RXA-6 is 999, unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<PartialDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// RXA-20 completion status (CP, PA, NA, RE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion: Option<String>,
    /// RXA-21 action code (A, U, D).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// RXA-18 substance or treatment refusal reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal_reason: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<Code>,
}

/// Results, orders, an appointment or immunizations, with the visit they happened in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Clinical {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Encounter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<Order>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment: Option<Appointment>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub immunizations: Vec<Immunization>,
}

#[cfg(test)]
mod tests {
    use super::Decimal;

    #[test]
    fn decimals_keep_their_precision_in_json_number_syntax() {
        for (text, want) in [("5.20", "5.20"), ("+05", "5"), (".5", "0.5"), ("-0.0", "0.0"), ("-3.1", "-3.1"), ("120", "120"), ("5.", "5")] {
            assert_eq!(Decimal::parse(text).map(|d| d.as_str().to_owned()), Some(want.to_owned()), "{text}");
        }
        for bad in ["", ".", "1.2.3", "1e5", "abc", "+", "1,5"] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
    }
}
