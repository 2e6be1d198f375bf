//! FHIR results → model: DiagnosticReports with the Observations and Specimens they name (by
//! fullUrl), Observations no report names in a report of their own, values with their types kept
//! (Quantity with its exact decimal, CodeableConcept, string, dateTime, time, Range, Ratio) and the
//! statuses back in HL7 tables 0085 and 0123.

use crate::ReadError;
use crate::clinical_types::{DiagnosticReport, Observation, Quantity, Specimen};
use crate::types::{CodeableConcept, Str};
use passerelle_model as m;
use std::borrow::Cow;

/// The result resources of a Bundle, each with its entry index and fullUrl.
#[derive(Default)]
pub struct Results<'a> {
    pub observations: Vec<(usize, Option<Cow<'a, str>>, Box<Observation<'a>>)>,
    pub reports: Vec<(usize, Box<DiagnosticReport<'a>>)>,
    pub specimens: Vec<(usize, Option<Cow<'a, str>>, Box<Specimen<'a>>)>,
}

impl Results<'_> {
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty() && self.reports.is_empty()
    }
}

fn os(s: &Option<Str<'_>>) -> Option<String> {
    s.as_deref().map(str::to_owned)
}

fn codes(c: &CodeableConcept<'_>) -> Vec<m::Code> {
    let mut out: Vec<m::Code> =
        c.coding.iter().filter_map(|k| Some(m::Code { code: os(&k.code)?, system: os(&k.system).unwrap_or_default(), display: os(&k.display) })).collect();
    if out.is_empty()
        && let Some(text) = os(&c.text)
    {
        out.push(m::Code { code: String::new(), system: String::new(), display: Some(text) });
    }
    out
}

fn quantity(q: &Quantity<'_>, at: &str) -> Result<m::Quantity, ReadError> {
    let value = m::Decimal::parse(&q.value.0)
        .ok_or_else(|| ReadError::invalid(format!("{:?} is not a decimal this reader keeps exactly", q.value.0), format!("{at}.value")))?;
    let unit = match (&q.code, &q.unit) {
        (Some(code), unit) => Some(m::Code { code: code.to_string(), system: os(&q.system).unwrap_or_default(), display: os(unit) }),
        (None, Some(unit)) => Some(m::Code { code: unit.to_string(), system: String::new(), display: None }),
        (None, None) => None,
    };
    Ok(m::Quantity { value, comparator: os(&q.comparator), unit })
}

fn date_time(text: &Option<Str<'_>>, at: &str) -> Result<Option<m::PartialDateTime>, ReadError> {
    match text.as_deref() {
        None => Ok(None),
        Some(t) => m::PartialDateTime::parse_fhir(t).map(Some).ok_or_else(|| ReadError::invalid(format!("{t:?} is not a fhir dateTime"), at.to_owned())),
    }
}

/// Observation.status → OBX-11.
fn obx_status(status: &str) -> Option<String> {
    let code = match status {
        "final" => "F",
        "corrected" | "amended" => "C",
        "preliminary" => "P",
        "registered" => "I",
        "entered-in-error" => "D",
        "cancelled" => "X",
        _ => return None,
    };
    Some(code.into())
}

/// DiagnosticReport.status → OBR-25.
fn obr_status(status: &str) -> Option<String> {
    let code = match status {
        "registered" => "I",
        "partial" => "A",
        "preliminary" => "P",
        "final" => "F",
        "corrected" | "amended" | "appended" => "C",
        "cancelled" | "entered-in-error" => "X",
        _ => return None,
    };
    Some(code.into())
}

fn observation(o: &Observation<'_>, at: &str) -> Result<m::Observation, ReadError> {
    let value = if let Some(q) = &o.value_quantity {
        m::ObservationValue::Quantity(quantity(q, &format!("{at}.valueQuantity"))?)
    } else if let Some(c) = &o.value_codeable_concept {
        m::ObservationValue::Coded(codes(c))
    } else if let Some(s) = &o.value_string {
        m::ObservationValue::Text(s.to_string())
    } else if let Some(t) = date_time(&o.value_date_time, &format!("{at}.valueDateTime"))? {
        m::ObservationValue::DateTime(t)
    } else if let Some(t) = &o.value_time {
        m::ObservationValue::Time(t.to_string())
    } else if let Some(r) = &o.value_range {
        let bound = |q: &Option<Quantity<'_>>, name: &str| q.as_ref().map(|q| quantity(q, &format!("{at}.valueRange.{name}"))).transpose();
        m::ObservationValue::Range { low: bound(&r.low, "low")?, high: bound(&r.high, "high")? }
    } else if let Some(r) = &o.value_ratio {
        m::ObservationValue::Ratio {
            numerator: quantity(&r.numerator, &format!("{at}.valueRatio.numerator"))?,
            denominator: quantity(&r.denominator, &format!("{at}.valueRatio.denominator"))?,
        }
    } else {
        m::ObservationValue::None
    };
    Ok(m::Observation {
        code: codes(&o.code),
        sub_id: None,
        value,
        reference_range: o.reference_range.first().map(|r| r.text.to_string()),
        interpretation: o.interpretation.iter().filter_map(|i| i.coding.first().and_then(|c| os(&c.code)).or_else(|| os(&i.text))).collect(),
        status: obx_status(&o.status),
        effective: date_time(&o.effective_date_time, &format!("{at}.effectiveDateTime"))?,
        method: o.method.as_ref().and_then(|c| codes(c).into_iter().next()),
        device: o.device.as_ref().and_then(|d| os(&d.display)),
        notes: o.note.iter().map(|n| n.text.to_string()).collect(),
    })
}

fn specimen(s: &Specimen<'_>, at: &str) -> Result<m::Specimen, ReadError> {
    Ok(m::Specimen {
        id: s.identifier.first().and_then(|i| os(&i.value)),
        specimen_type: s.type_.as_ref().and_then(|c| codes(c).into_iter().next()),
        collected: date_time(&s.collection.as_ref().map(|c| c.collected_date_time.clone()), &format!("{at}.collection.collectedDateTime"))?,
        received: date_time(&s.received_time, &format!("{at}.receivedTime"))?,
    })
}

/// The order numbers a report's identifiers carry (typed PLAC / FILL), else its first identifier.
fn order(r: &DiagnosticReport<'_>) -> m::Order {
    let typed = |code: &str| {
        r.identifier.iter().find(|i| i.type_.as_ref().is_some_and(|t| t.coding.iter().any(|c| c.code.as_deref() == Some(code)))).and_then(|i| os(&i.value))
    };
    let filler = typed("FILL").or_else(|| r.identifier.iter().find(|i| i.type_.is_none()).and_then(|i| os(&i.value)));
    m::Order { placer_number: typed("PLAC"), filler_number: filler, code: codes(&r.code), ..m::Order::default() }
}

fn entry_at(i: usize) -> String {
    format!("Bundle.entry[{i}].resource")
}

/// The model reports of a Bundle's result resources.
pub fn to_model(results: &Results<'_>) -> Result<Vec<m::Report>, ReadError> {
    let mut used = vec![false; results.observations.len()];
    let mut reports = Vec::with_capacity(results.reports.len() + 1);
    for (i, r) in &results.reports {
        let at = entry_at(*i);
        let mut report = m::Report {
            order: order(r),
            status: obr_status(&r.status),
            effective: date_time(&r.effective_date_time, &format!("{at}.effectiveDateTime"))?,
            issued: date_time(&r.issued, &format!("{at}.issued"))?,
            ..m::Report::default()
        };
        for (k, reference) in r.result.iter().enumerate() {
            let target = reference.reference.as_deref();
            let found = results.observations.iter().position(|(_, url, _)| url.as_deref().is_some() && url.as_deref() == target);
            match found {
                Some(o) => {
                    used[o] = true;
                    let (j, _, obs) = &results.observations[o];
                    report.observations.push(observation(obs, &entry_at(*j))?);
                }
                None => return Err(ReadError::invalid("the result names no Observation of this Bundle".into(), format!("{at}.result[{k}].reference"))),
            }
        }
        for reference in &r.specimen {
            let target = reference.reference.as_deref();
            if let Some((j, _, s)) = results.specimens.iter().find(|(_, url, _)| url.as_deref().is_some() && url.as_deref() == target) {
                report.specimens.push(specimen(s, &entry_at(*j))?);
            }
        }
        reports.push(report);
    }
    let loose: Vec<m::Observation> =
        results.observations.iter().zip(&used).filter(|(_, used)| !**used).map(|((j, _, o), _)| observation(o, &entry_at(*j))).collect::<Result<_, _>>()?;
    if !loose.is_empty() {
        reports.push(m::Report { observations: loose, ..m::Report::default() });
    }
    Ok(reports)
}
