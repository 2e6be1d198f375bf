//! PID, NK1 and ZFD into the model patient, and the INS rules of domain-fr-be.md §0 (PAM-FR §6.6).

use super::datatypes::{cx, timestamp, xad, xpn, xtn};
use crate::tokenizer::Segment;
use passerelle_model::{ConsultationChoice, Contact, DmpConsent, FeedingChoice, InsTraits, Issue, IssueLocation, NameUse, Patient, apply_identity_rules};

pub fn read_pid(pid: &Segment<'_, '_>, issues: &mut Vec<Issue>) -> Patient {
    let mut p = Patient::default();
    for (i, rep) in pid.field(3).repetitions().enumerate() {
        let at = IssueLocation { repetition: i + 1, ..IssueLocation::field("PID", 1, 3) };
        if let Some(id) = cx(rep, issues, &at) {
            p.identifiers.push(id);
        }
    }
    for code in pid.field(32).repetitions() {
        let text = code.text();
        if !p.trust.push_code(&text) {
            issues.push(Issue::warning("identity-code-unknown", "PID-32 code outside PAM-FR table 0445").at(IssueLocation::field("PID", 1, 32)));
        }
    }
    p.names = pid.field(5).repetitions().filter_map(|r| xpn(r, issues)).collect();
    p.birth_date = timestamp(pid.field(7), "PID", 7, issues);
    let sex = pid.field(8).text();
    p.sex = crate::tables::sex(&sex);
    if p.sex.is_none() && !sex.is_empty() {
        issues.push(Issue::warning("bad-value", "PID-8 sex outside HL7 table 0001").at(IssueLocation::field("PID", 1, 8)));
    }
    p.addresses = pid.field(11).repetitions().filter_map(|r| xad(r, issues)).collect();
    p.telecoms = pid.field(13).repetitions().chain(pid.field(14).repetitions()).filter_map(|r| xtn(r, issues)).collect();
    p.deceased = timestamp(pid.field(29), "PID", 29, issues);
    p
}

pub fn read_nk1(nk1: &Segment<'_, '_>, issues: &mut Vec<Issue>) -> Contact {
    Contact {
        name: nk1.field(2).repetitions().find_map(|r| xpn(r, issues)),
        relationship: nk1.field(3).component(1).string(),
        address: nk1.field(4).repetitions().find_map(|r| xad(r, issues)),
        telecoms: nk1.field(5).repetitions().chain(nk1.field(6).repetitions()).filter_map(|r| xtn(r, issues)).collect(),
        role: nk1.field(7).component(1).string(),
    }
}

/// ZFA (PAM-FR §6.14): DMP status, ZFA-9 opposition to feeding the DMP, ZFA-11 consent to consultation.
pub fn read_zfa(zfa: &Segment<'_, '_>, issues: &mut Vec<Issue>) -> DmpConsent {
    let choice = |n: usize| zfa.field(n).string();
    let feeding = choice(9);
    let consultation = choice(11);
    let consent = DmpConsent {
        status: choice(1),
        status_date: zfa.field(2).component(1).string(),
        feeding: feeding.as_deref().and_then(FeedingChoice::from_code),
        feeding_date: zfa.field(10).component(1).string(),
        consultation: consultation.as_deref().and_then(ConsultationChoice::from_code),
        consultation_date: zfa.field(12).component(1).string(),
    };
    if feeding.is_some() && consent.feeding.is_none() {
        issues.push(Issue::warning("bad-value", "ZFA-9 outside NA, IO, INO").at(IssueLocation::field("ZFA", 1, 9)));
    }
    if consultation.is_some() && consent.consultation.is_none() {
        issues.push(Issue::warning("bad-value", "ZFA-11 outside NA, INC, IC").at(IssueLocation::field("ZFA", 1, 11)));
    }
    consent
}

/// ZFD (PAM-FR §6.18): corrected birth date, collection mode, INSi query date, identity proof.
pub fn read_zfd(zfd: &Segment<'_, '_>, p: &mut Patient, _issues: &mut [Issue]) {
    p.trust.corrected_birth_date = zfd.field(4).raw() == b"Y";
    p.trust.collection_method = zfd.field(5).string();
    p.trust.insi_query_date = zfd.field(6).component(1).string();
    p.trust.proof_type = zfd.field(7).string();
    p.trust.proof_expiry = zfd.field(8).component(1).string();
}

/// Applies the model's identity rules (an INS only on a trusted identity with a valid key, NIR
/// before NIA, no NISS/BIS with a failed key), then fills the INS traits byte-exact when an INS is
/// kept. Returns true when PID-3 asks to delete the INS (A47 with a `""` INS value).
pub fn apply_ins_rules(pid: &Segment<'_, '_>, p: &mut Patient, issues: &mut Vec<Issue>) -> bool {
    let deleted = pid.field(3).repetitions().any(|r| r.component(1).is_null() && r.component(5).raw() == b"INS");
    p.identifiers.retain(|id| id.value != "\"\"");
    for issue in apply_identity_rules(p) {
        let field = if issue.code == "rniv-inconsistent" { 32 } else { 3 };
        issues.push(issue.at(IssueLocation::field("PID", 1, field)));
    }
    if p.ins().is_none() {
        return deleted;
    }
    if p.trust.corrected_birth_date {
        issues.push(Issue::warning("ins-corrected-birth-date", "INS sent with a corrected birth date (ZFD-4 = Y)").at(IssueLocation::field("ZFD", 1, 4)));
    }
    let birth = pid.field(5).repetitions().find(|r| r.component(7).raw() == b"L");
    let place = pid.field(11).repetitions().find(|r| r.component(7).raw() == b"BDL");
    let traits = InsTraits {
        birth_family_name: birth.map(|r| r.component(1).subcomponent(1).text_with(issues).into_owned()).unwrap_or_default(),
        first_birth_given_name: birth.map(|r| r.component(2).text_with(issues).into_owned()).unwrap_or_default(),
        birth_given_names: birth.map(|r| r.component(3).text_with(issues).into_owned()).unwrap_or_default(),
        birth_date: pid.field(7).component(1).string(),
        sex: pid.field(8).string(),
        birth_place_cog: place.and_then(|r| r.component(9).string()),
    };
    if traits.birth_family_name.is_empty() || traits.first_birth_given_name.is_empty() || traits.birth_date.is_none() || traits.sex.is_none() {
        issues.push(
            Issue::warning("ins-traits-incomplete", "qualified INS without all strict traits (birth name L, first given name, birth date, sex)")
                .at(IssueLocation::field("PID", 1, 5)),
        );
    }
    if traits.birth_place_cog.is_none() {
        issues.push(
            Issue::warning("ins-birth-place-missing", "qualified INS without a birth place COG (PID-11 type BDL, XAD-9)")
                .at(IssueLocation::field("PID", 1, 11)),
        );
    }
    if p.name(NameUse::Birth).is_none() {
        issues.push(Issue::info("no-birth-name", "no PID-5 repetition of type L"));
    }
    p.ins_traits = Some(traits);
    deleted
}
