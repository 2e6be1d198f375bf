//! FHIR R4 JSON: hand-written serde types for the resources we emit, model → FHIR (FR Core, BE core,
//! generic) as a transaction Bundle with conditional updates, and FHIR Patient → model.

pub mod bundle;
pub mod encounter;
pub mod json;
pub mod outcome;
pub mod patient;
pub mod read;
pub mod types;

pub use bundle::{RenderOptions, render_bundle};
pub use json::{JsonError, to_json};
pub use outcome::operation_outcome;
pub use read::{ReadError, read_patient};

use passerelle_model::{IdentifierKind, Message};

/// Which national profile the output follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// FR Core for patients with a French identifier or a French sender, BE core for Belgian ones.
    #[default]
    Auto,
    FrCore,
    BeCore,
    Generic,
}

impl Profile {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "fr-core" => Some(Self::FrCore),
            "be-core" => Some(Self::BeCore),
            "generic" => Some(Self::Generic),
            _ => None,
        }
    }
    /// Resolves `Auto` for one message. A cross-border patient (INS and NISS) gets FR Core with
    /// both identifiers kept.
    pub fn resolve(self, msg: &Message) -> Self {
        if self != Self::Auto {
            return self;
        }
        let ids = msg.patient.as_ref().map(|p| p.identifiers.as_slice()).unwrap_or_default();
        let french = msg.envelope.french_profile || ids.iter().any(|i| i.kind.country() == Some(passerelle_model::Country::Fr));
        if french {
            Self::FrCore
        } else if ids.iter().any(|i| matches!(i.kind, IdentifierKind::Niss | IdentifierKind::Bis)) {
            Self::BeCore
        } else {
            Self::Generic
        }
    }
}

pub const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
