//! The flow language: self-service conversations as a graph of blocks.
//!
//! A flow is a JSON document (see `docs/FLOWS.md`) naming blocks that say
//! things, ask questions, search the knowledge base, branch on what the
//! customer answered and finally either finish ("contained": the bot helped)
//! or hand the customer to a person. The chat bot runs flows today and the
//! voice IVR will run the same ones, so nothing here is about a channel:
//! buttons are also phone-menu keys, and text is also spoken.
//!
//! [`Flow::parse`] checks a definition and collects every problem with a
//! field path; a [`Flow`] therefore always holds a definition whose blocks
//! fit together. [`Run`] is the interpreter, a serialisable state machine the
//! host drives with the customer's [`Input`] and whose [`Output`] it
//! delivers.
//!
//! ```
//! use switchboard_core::flow::{Flow, Input, Output, Run, Status};
//! use std::collections::BTreeMap;
//!
//! let flow = Flow::parse(switchboard_core::flow::example()).unwrap();
//! let (mut run, outputs) = Run::start(&flow, BTreeMap::from([("name".into(), "Ada".into())]));
//! assert!(matches!(&outputs[0], Output::Say { text } if text.starts_with("Hi Ada!")));
//! assert_eq!(run.status(), Status::WaitingForButton);
//! let outputs = run.input(&flow, Input::Text("I want a human".into()));
//! assert!(matches!(outputs.last(), Some(Output::Handoff { .. })));
//! assert_eq!(run.status(), Status::HandedOff);
//! ```

pub mod definition;
mod graph;
mod matching;
mod parse;
pub mod run;
pub mod template;
pub mod validate;
pub mod verify;

pub use definition::{Block, BlockId, Check, DateOrder, Definition, Digits, HandoffReason, Verify};
pub use run::{Button, Hit, Input, MAX_STEPS, Output, Run, Status};
pub use validate::{FlowError, FlowErrors, Report, Warning, validate};
pub use verify::{Checked, Outcome};

use serde::{Serialize, Serializer};

/// A demonstration flow (welcome, a menu of billing question / order status /
/// talk to a person, a knowledge search, "did that help?", hand-off to the
/// queue "Support"). It reads the host variable `name`; the server's demo
/// seeds it.
pub fn example() -> &'static str {
    include_str!("example.json")
}

/// A definition that passed validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    definition: Definition,
    warnings: Vec<Warning>,
}

impl Flow {
    /// Parses and validates JSON, with no host-provided variables.
    pub fn parse(json: &str) -> Result<Flow, FlowErrors> {
        Flow::parse_with(json, &[])
    }

    /// Parses and validates JSON. `known_variables` are those the host seeds
    /// every run with (name, email, pre-chat fields): templates reading them
    /// raise no warning.
    pub fn parse_with(json: &str, known_variables: &[&str]) -> Result<Flow, FlowErrors> {
        let definition = parse::definition(json).map_err(|errors| FlowErrors { errors, warnings: Vec::new() })?;
        Flow::new(definition, known_variables)
    }

    /// Validates a definition built or deserialized by the host.
    pub fn new(definition: Definition, known_variables: &[&str]) -> Result<Flow, FlowErrors> {
        let Report { errors, warnings } = validate(&definition, known_variables);
        if errors.is_empty() { Ok(Flow { definition, warnings }) } else { Err(FlowErrors { errors, warnings }) }
    }

    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    /// What validation found worth saying that does not stop the flow.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    pub fn block(&self, id: &str) -> Option<&Block> {
        self.definition.blocks.get(id)
    }

    /// The definition as pretty JSON, for storing or showing.
    pub fn to_json(&self) -> String {
        // A definition is strings, numbers and maps with string keys, which
        // always serialise.
        serde_json::to_string_pretty(&self.definition).unwrap_or_default()
    }
}

/// A flow serialises as its definition.
impl Serialize for Flow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.definition.serialize(s)
    }
}

#[cfg(test)]
mod tests;
