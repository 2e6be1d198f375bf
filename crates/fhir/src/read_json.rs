//! Strict, located JSON reading of FHIR resources: a resource's `resourceType` is read first (the
//! rest skipped), then the resource is parsed into its type straight from its bytes (no buffered
//! tree). A wrong type (`"true"` for a boolean, a number for a string) or an unknown resource type
//! fails with the FHIRPath of the fault, e.g. `Bundle.entry[1].resource.identifier[0].value`.

use crate::ReadError;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(rename = "resourceType", borrow)]
    resource_type: Option<Cow<'a, str>>,
}

/// The `resourceType` of the JSON object `raw`, located at `at` when it is missing.
pub fn resource_type<'a>(raw: &'a str, at: &str) -> Result<Cow<'a, str>, ReadError> {
    let tag: Tag<'a> = serde_json::from_str(raw).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ReadError::invalid(e.to_string(), at.to_owned()),
        _ => ReadError::Json(e),
    })?;
    tag.resource_type.ok_or_else(|| ReadError::invalid("a resource without resourceType".into(), fhir_path(at, "resourceType")))
}

/// `raw` parsed as `T`; on a type fault, the FHIRPath of the faulty element below `at`.
pub fn typed<'a, T: Deserialize<'a>>(raw: &'a str, at: &str) -> Result<T, ReadError> {
    match serde_json::from_str(raw) {
        Ok(v) => Ok(v),
        Err(e) if e.classify() != serde_json::error::Category::Data => Err(ReadError::Json(e)),
        // The error path is rare: parse again, tracking where the deserializer was.
        Err(e) => {
            let mut de = serde_json::Deserializer::from_str(raw);
            let path = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(located) => fhir_path(at, &located.path().to_string()),
                Ok(_) => at.to_owned(),
            };
            Err(ReadError::invalid(strip_position(&e.to_string()), path))
        }
    }
}

/// serde_path_to_error's `a.b[0].c` under `at`, as FHIRPath (`.` alone means the root).
fn fhir_path(at: &str, inner: &str) -> String {
    match (at, inner) {
        (_, "" | ".") => at.to_owned(),
        ("", _) => inner.to_owned(),
        _ => format!("{at}.{inner}"),
    }
}

/// serde_json's message without its ` at line 1 column 52` (the expression says where).
fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

/// The entries of a Bundle, each resource kept as its raw JSON text.
#[derive(Deserialize)]
pub struct RawBundle<'a> {
    #[serde(default, rename = "type")]
    pub bundle_type: Option<Cow<'a, str>>,
    #[serde(default)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub identifier: Option<BundleIdentifier<'a>>,
    #[serde(default, borrow)]
    pub entry: Vec<RawEntry<'a>>,
}

/// `Bundle.identifier`: its value is the sender's message id.
#[derive(Deserialize)]
pub struct BundleIdentifier<'a> {
    #[serde(default, borrow)]
    pub value: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub struct RawEntry<'a> {
    #[serde(default, rename = "fullUrl")]
    pub full_url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub resource: Option<&'a RawValue>,
    #[serde(default)]
    pub request: Option<RawRequest<'a>>,
}

#[derive(Deserialize)]
pub struct RawRequest<'a> {
    pub method: Cow<'a, str>,
    #[serde(default)]
    pub url: Option<Cow<'a, str>>,
}

/// The R4 resource types (FHIR 4.0.1 resource list): any other name is not a FHIR resource.
const R4_RESOURCE_TYPES: &[&str] = &[
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// Whether `name` is an R4 resource type.
pub fn is_r4_resource_type(name: &str) -> bool {
    R4_RESOURCE_TYPES.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_list_is_sorted_for_binary_search() {
        assert!(R4_RESOURCE_TYPES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_r4_resource_type("Observation") && !is_r4_resource_type("Observations"));
    }

    #[test]
    fn a_type_fault_is_located_by_fhirpath() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Id {
            value: Option<String>,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct P {
            identifier: Vec<Id>,
        }
        let Err(ReadError::Invalid { message, path }) = typed::<P>(r#"{"identifier":[{"value":"a"},{"value":12}]}"#, "Patient") else { panic!("must fail") };
        assert_eq!(path.as_deref(), Some("Patient.identifier[1].value"));
        assert!(!message.contains("line"), "{message}");
    }
}
