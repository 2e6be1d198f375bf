//! The clinical entries of a transaction Bundle: each report's Specimens and Observations before
//! its DiagnosticReport (which refers to their fullUrls), then ServiceRequests, the Appointment and
//! the Immunizations, all referring to the bundle's Patient and Encounter.

use crate::bundle::entry;
use crate::results::{Subject, diagnostic_report, observation, specimen};
use crate::types::{Bundle, Resource, Str};
use passerelle_model as m;
use passerelle_model::{Issue, TimeZoneRule};

pub fn push_clinical_entries<'m>(
    bundle: &mut Bundle<'m>,
    clinical: &'m m::Clinical,
    trigger: &str,
    subject: &Subject<'m>,
    full_url: &dyn Fn(&str, &str) -> String,
    tz: TimeZoneRule,
    issues: &mut Vec<Issue>,
) {
    for (r, report) in clinical.reports.iter().enumerate() {
        let mut specimens = Vec::with_capacity(report.specimens.len());
        for (s, sp) in report.specimens.iter().enumerate() {
            let url = full_url("Specimen", &format!("{r}.{s}"));
            bundle.entry.push(entry(Resource::Specimen(Box::new(specimen(sp, subject, tz))), url.clone(), None, "Specimen"));
            specimens.push(Str::Owned(url));
        }
        let mut results = Vec::with_capacity(report.observations.len());
        for (o, obs) in report.observations.iter().enumerate() {
            if obs.code.is_empty() {
                issues.push(Issue::warning("missing-field", "an OBX without OBX-3: its Observation is coded as text \"unknown\""));
            }
            let url = full_url("Observation", &format!("{r}.{o}"));
            bundle.entry.push(entry(Resource::Observation(Box::new(observation(obs, subject, tz, true))), url.clone(), None, "Observation"));
            results.push(Str::Owned(url));
        }
        let url = full_url("DiagnosticReport", &r.to_string());
        bundle.entry.push(entry(
            Resource::DiagnosticReport(Box::new(diagnostic_report(report, subject, results, specimens, tz))),
            url,
            None,
            "DiagnosticReport",
        ));
    }
    let needs_patient = |what: &str, issues: &mut Vec<Issue>| issues.push(Issue::error("missing-patient", format!("a {what} needs the patient (PID)")));
    for (i, order) in clinical.orders.iter().enumerate() {
        match crate::orders::service_request(order, subject, tz) {
            Some(request) => {
                bundle.entry.push(entry(Resource::ServiceRequest(Box::new(request)), full_url("ServiceRequest", &i.to_string()), None, "ServiceRequest"))
            }
            None => needs_patient("ServiceRequest", issues),
        }
    }
    if let Some(a) = &clinical.appointment {
        let resource = crate::orders::appointment(a, trigger, subject, tz);
        if resource.participant.is_empty() {
            issues.push(Issue::error("missing-field", "an appointment needs a participant: the patient or a resource"));
        }
        bundle.entry.push(entry(Resource::Appointment(Box::new(resource)), full_url("Appointment", "0"), None, "Appointment"));
    }
    for (i, imm) in clinical.immunizations.iter().enumerate() {
        match crate::orders::immunization(imm, subject, tz) {
            Some(resource) => {
                bundle.entry.push(entry(Resource::Immunization(Box::new(resource)), full_url("Immunization", &i.to_string()), None, "Immunization"))
            }
            None if imm.occurrence.is_none() => issues.push(Issue::error("missing-field", "an immunization needs its administration time (RXA-3)")),
            None => needs_patient("Immunization", issues),
        }
    }
}
