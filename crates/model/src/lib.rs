//! Canonical, format-neutral model: patients keyed by national identifiers, encounters, message envelopes and diagnostics.
//!
//! This crate does no IO and depends on no other crate of ours. Every format crate maps into and out
//! of these types; the identity rules of domain-fr-be.md §0 live here so that no format can bypass them.

pub mod base64;
pub mod checksum;
pub mod clinical;
pub mod consent;
pub mod datetime;
pub mod diagnostics;
pub mod document;
pub mod encounter;
pub mod hex;
pub mod identifier;
pub mod identity;
pub mod message;
pub mod patient;
pub mod trust;

pub use clinical::{Appointment, AppointmentParticipant, Clinical, Decimal, Immunization, Observation, ObservationValue, Order, Quantity, Report, Specimen};
pub use consent::{ConsultationChoice, DmpConsent, DocumentSharing, FeedingChoice};
pub use datetime::{PartialDateTime, TimeZoneRule};
pub use diagnostics::{Issue, IssueLocation, Locator, Parsed, Severity};
pub use document::{Code, ContentRef, Document, InstanceId, Organisation, Participant, Recipient, Section};
pub use encounter::{AttendingDoctor, Encounter, Location, Movement, PatientClass};
pub use identifier::{Country, Identifier, IdentifierKind, KeyCheck};
pub use identity::{Authority, apply_identity_rules, classify};
pub use message::{Administrative, Content, Envelope, Event, EventKind, Format, MergeInfo, Message, Party, SourceEvent};
pub use patient::{Address, Contact, ContactPoint, HumanName, InsTraits, NameUse, Patient, Sex};
pub use trust::{IdentityAttribute, IdentityStatus, IdentityTrust};
