//! The message search's SQL, shared by both backends: only the conditions asked for are written
//! (a `?1 IS NULL OR …` form made SQLite scan the whole journal, 60 ms at a million messages),
//! each identifier condition a lookup in the identifier table's (value, system) index.

use crate::types::{MessageQuery, MessageStatus};

/// The WHERE clause (empty, or starting with ` WHERE`) and its text parameters in order;
/// `placeholder(n)` writes parameter n (1-based) in the backend's syntax.
pub fn search_where(q: &MessageQuery, placeholder: impl Fn(usize) -> String) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let next = |value: &str, params: &mut Vec<String>| {
        params.push(value.to_owned());
        placeholder(params.len())
    };
    if let Some(value) = &q.patient {
        let p = next(value, &mut params);
        conditions.push(format!("id IN (SELECT message_id FROM identifiers WHERE value = {p})"));
    }
    if let Some((system, value)) = &q.identifier {
        let v = next(value, &mut params);
        let s = next(system, &mut params);
        conditions.push(format!("id IN (SELECT message_id FROM identifiers WHERE value = {v} AND system = {s})"));
    }
    if let Some(control) = &q.control_id {
        let p = next(control, &mut params);
        conditions.push(format!("control_id = {p}"));
    }
    if let Some(sender) = &q.sender {
        let p = next(sender, &mut params);
        conditions.push(format!("sender = {p}"));
    }
    if let Some(kind) = &q.message_type {
        let exact = next(kind, &mut params);
        let events = next(&format!("{kind}^%"), &mut params);
        conditions.push(format!("(message_type = {exact} OR message_type LIKE {events})"));
    }
    if let Some(code) = &q.document_type {
        let p = next(code, &mut params);
        conditions.push(format!("document_type = {p}"));
    }
    if let Some(destination) = &q.destination {
        let p = next(destination, &mut params);
        conditions.push(format!("id IN (SELECT message_id FROM outbox WHERE destination = {p})"));
    }
    if let Some(since) = q.since_ms {
        let p = next(&since.to_string(), &mut params);
        conditions.push(format!("received_at_ms >= CAST({p} AS BIGINT)"));
    }
    if let Some(until) = q.until_ms {
        let p = next(&until.to_string(), &mut params);
        conditions.push(format!("received_at_ms < CAST({p} AS BIGINT)"));
    }
    match q.status {
        Some(MessageStatus::Withheld) => conditions.push("withheld IS NOT NULL".into()),
        Some(MessageStatus::Accepted) => conditions.push("status = 'accepted' AND withheld IS NULL".into()),
        Some(MessageStatus::Rejected) => conditions.push("status = 'rejected'".into()),
        None => {}
    }
    let clause = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
    (clause, params)
}
