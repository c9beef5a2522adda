//! JSON text to a [`Definition`], with errors that say where.
//!
//! serde stops at the first problem and names it by line and column, which
//! is right for a syntax error but not for a well-formed document of the
//! wrong shape: the admin page wants a field path, and all the problems. So
//! when serde rejects valid JSON, the document is read again as a
//! `serde_json::Value` and each part is deserialized on its own to find
//! every part at fault.

use super::definition::{Block, BlockId, ButtonOption, Definition, key_path};
use super::validate::FlowError;
use serde::Deserialize;
use serde_json::Value;

pub(crate) fn definition(json: &str) -> Result<Definition, Vec<FlowError>> {
    let err = match serde_json::from_str::<Definition>(json) {
        Ok(def) => return Ok(def),
        Err(e) => e,
    };
    if !err.is_data() {
        return Err(vec![positioned(&err)]);
    }
    let located = serde_json::from_str::<Value>(json).map(|v| locate(&v)).unwrap_or_default();
    // Some problems vanish in a `Value` (of two equal keys it keeps the last),
    // and then serde's own position is the best there is.
    Err(if located.is_empty() { vec![positioned(&err)] } else { located })
}

fn positioned(e: &serde_json::Error) -> FlowError {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    FlowError::Json { line: e.line(), column: e.column(), message: tidy(message) }
}

/// serde quotes names with backticks; the rest of our messages use quotes.
fn tidy(message: &str) -> String {
    message.replace('`', "'")
}

const FIELDS: [&str; 5] = ["version", "start", "handoff_phrases", "handoff", "blocks"];

fn locate(doc: &Value) -> Vec<FlowError> {
    let Some(top) = doc.as_object() else { return Vec::new() };
    let mut errors = Vec::new();
    for key in top.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        let field = key_path(key).trim_start_matches('.').to_string();
        errors.push(FlowError::at(field, format!("unknown field, expected one of {}", FIELDS.join(", "))));
    }
    for required in ["start", "blocks"] {
        if !top.contains_key(required) {
            errors.push(FlowError::at(required, "missing"));
        }
    }
    check::<u32>(&mut errors, "version", top.get("version"));
    check::<BlockId>(&mut errors, "start", top.get("start"));
    check::<Vec<String>>(&mut errors, "handoff_phrases", top.get("handoff_phrases"));
    check::<Option<BlockId>>(&mut errors, "handoff", top.get("handoff"));
    match top.get("blocks") {
        None => {}
        Some(Value::Object(blocks)) => {
            for (id, block) in blocks {
                errors.extend(locate_block(&format!("blocks{}", key_path(id)), block));
            }
        }
        Some(_) => errors.push(FlowError::at("blocks", "must be an object of blocks by name")),
    }
    errors
}

fn check<'de, T: Deserialize<'de>>(errors: &mut Vec<FlowError>, field: &str, value: Option<&'de Value>) {
    if let Some(Err(e)) = value.map(T::deserialize) {
        errors.push(FlowError::at(field, tidy(&e.to_string())));
    }
}

fn locate_block(path: &str, block: &Value) -> Vec<FlowError> {
    let Err(e) = Block::deserialize(block) else { return Vec::new() };
    // A menu's options are where most slips happen; name the option.
    if block.get("type").and_then(Value::as_str) == Some("buttons")
        && let Some(options) = block.get("options").and_then(Value::as_array)
    {
        let mut errors = Vec::new();
        for (i, option) in options.iter().enumerate() {
            check::<ButtonOption>(&mut errors, &format!("{path}.options[{i}]"), Some(option));
        }
        if !errors.is_empty() {
            return errors;
        }
    }
    vec![FlowError::at(path, tidy(&e.to_string()))]
}
