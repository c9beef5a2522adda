//! Tests of the flow language: validation, the interpreter, and properties
//! over random inputs and random definitions.

mod interpreter;
mod properties;
mod validation;

use super::*;
use std::collections::BTreeMap;

/// The spec's example: every block type, valid.
pub(super) const FULL: &str = r#"{
  "start": "welcome",
  "handoff_phrases": ["agent", "person", "human", "talk to someone"],
  "handoff": "to_agent",
  "blocks": {
    "welcome": {"type": "message", "text": "Hi {{name}}! I'm the Switchboard bot.", "next": "tag"},
    "tag": {"type": "set", "values": {"tier": "gold"}, "next": "menu"},
    "menu": {"type": "buttons", "text": "What can I help with?", "save_as": "topic",
             "options": [{"label": "Billing", "value": "billing", "key": "1", "next": "route"},
                         {"label": "Talk to a person", "value": "person", "key": "0", "next": "to_agent"}],
             "no_match": "menu_retry"},
    "menu_retry": {"type": "message", "text": "Please pick one.", "next": "menu"},
    "route": {"type": "branch", "variable": "topic", "cases": {"billing": "ask"}, "else": "to_agent"},
    "ask": {"type": "input", "text": "Type your question.", "save_as": "question", "next": "kb"},
    "kb": {"type": "knowledge", "query": "{{question}}", "min_score": 0.5, "found": "helped", "not_found": "to_agent"},
    "helped": {"type": "buttons", "text": "Did that answer it?", "options": [{"label": "Yes", "next": "bye"}, {"label": "No", "next": "to_agent"}]},
    "bye": {"type": "end", "text": "Glad I could help!"},
    "to_agent": {"type": "handoff", "text": "Connecting you with a person…", "queue": "Support", "priority": 0}
  }
}"#;

pub(super) fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A definition from its top-level extras and its blocks, both JSON text:
/// `doc("\"start\": \"a\"", r#""a": {...}"#)`.
pub(super) fn doc(top: &str, blocks: &str) -> String {
    let sep = if top.is_empty() { "" } else { ", " };
    format!("{{{top}{sep}\"blocks\": {{{blocks}}}}}")
}

/// A flow that must validate; the host provides `name` and `email`.
pub(super) fn flow(json: &str) -> Flow {
    Flow::parse_with(json, &["name", "email"]).unwrap_or_else(|e| panic!("{e}\n{json}"))
}

/// The errors of a definition that must not validate, as displayed.
pub(super) fn errors(json: &str) -> Vec<String> {
    match Flow::parse_with(json, &["name", "email"]) {
        Ok(_) => panic!("validated: {json}"),
        Err(e) => e.errors.iter().map(ToString::to_string).collect(),
    }
}

/// The warnings of a definition that must validate, as displayed.
pub(super) fn warnings(json: &str) -> Vec<String> {
    flow(json).warnings().iter().map(ToString::to_string).collect()
}
