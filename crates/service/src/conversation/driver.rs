//! The flow driver: runs a bot flow (`switchboard_core::flow`) for any
//! channel. It takes what the customer did and answers with what the
//! channel should do; searching the knowledge base happens inside, so a
//! channel never sees a search. Chat renders the actions as messages and
//! buttons; voice renders the same actions as speech and key menus.
//!
//! The driver changes nothing: it returns the run's next position, and the
//! caller stores it with the actions' effects in one commit (and only then
//! remembers it), so a failed commit leaves the bot where the disk has it.

use crate::{Service, ServiceError};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use switchboard_core::flow::{self, Check, Flow, HandoffReason, Hit, Outcome, Output, Run};
use switchboard_core::ids::{CustomerId, WorkspaceId};

/// Articles handed to the bot per search.
const SEARCH_HITS: u32 = 3;
/// How much of an article the bot says.
const ANSWER_CHARS: usize = 700;

/// What the customer did, as any channel sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// Words: typed, or recognised from speech.
    Text(String),
    /// An option chosen: a chat button's value, or a phone menu key.
    Press(String),
    /// Digits keyed in answer to a question (an order number by phone).
    Digits(String),
    /// Nothing came within the channel's wait: the flow hears an empty answer
    /// and takes its no-match path (or, for digits, counts a try).
    Silence,
    /// The customer left (hung up): the run finishes abandoned, where it
    /// stood, which is what reports of where callers give up read.
    HangUp,
}

impl Input {
    fn into_flow(self) -> flow::Input {
        match self {
            Input::Text(t) | Input::Digits(t) => flow::Input::Text(t),
            Input::Press(value) => flow::Input::Button { value },
            Input::Silence => flow::Input::Text(String::new()),
            Input::HangUp => flow::Input::HangUp,
        }
    }
}

/// One option of a question: a button in chat, a key by phone.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub label: String,
    pub value: String,
    /// The phone key that picks it, when the flow names one.
    pub key: Option<String>,
}

/// What the channel should do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Tell the customer this.
    Say(String),
    /// Play this recording (a name); where there is no sound, show `text`,
    /// its transcript.
    Play { recording: String, text: String },
    /// Ask this and wait; no choices means a free answer.
    Ask { text: String, choices: Vec<Choice> },
    /// Ask this and collect digits: at most `max`, ended early by
    /// `terminator` (when not empty), given up on after `timeout` without a
    /// key — answered with [`Input::Digits`], or [`Input::Silence`] when none
    /// came. A channel without keys takes them typed.
    Collect { text: String, min: u8, max: u8, terminator: String, timeout: Duration },
    /// Hand over to a person. `queue` is a queue's name, `None` for the way
    /// in's own queue; the variables become contact attributes.
    HandOff { queue: Option<String>, priority: i32, reason: HandoffReason, attributes: BTreeMap<String, String> },
    /// A `verify` block finished: record its outcome on the contact.
    Verified { check: Check, outcome: Outcome },
    /// The bot helped; the conversation ends contained.
    End,
}

/// Whom a flow runs for: its workspace, and the customer a `verify` block
/// checks (`None` when nobody is known).
#[derive(Clone, Copy, Debug)]
pub struct Party {
    pub workspace: WorkspaceId,
    pub customer: Option<CustomerId>,
}

/// A bot conversation's next position and what to do.
#[derive(Clone, Debug)]
pub struct Step {
    pub run: Run,
    pub actions: Vec<Action>,
    /// The input this step took answered a `verify` block: a secret the
    /// transcript shows masked (see [`SECRET`]).
    pub secret: bool,
}

/// What the transcript shows for an answer to a `verify` block.
pub const SECRET: &str = "••••";

impl Step {
    pub fn finished(&self) -> bool {
        self.run.is_finished()
    }
}

fn excerpt(body: &str) -> String {
    if body.chars().count() <= ANSWER_CHARS {
        return body.to_string();
    }
    let cut: String = body.chars().take(ANSWER_CHARS).collect();
    // End at a sentence or word, not mid-word.
    let end = cut.rfind(". ").map(|i| i + 1).or_else(|| cut.rfind(' ')).unwrap_or(cut.len());
    format!("{}…", &cut[..end])
}

impl Service {
    /// Starts `flow` with the channel's variables (name, email, form fields).
    pub async fn start_flow(
        &self,
        party: Party,
        flow: &Flow,
        variables: BTreeMap<String, String>,
    ) -> Result<Step, ServiceError> {
        let (run, outputs) = Run::start(flow, variables);
        self.follow_flow(party, flow, run, outputs, false).await
    }

    /// Feeds the customer's `input` to a run of `flow`.
    pub async fn step_flow(&self, party: Party, flow: &Flow, mut run: Run, input: Input) -> Result<Step, ServiceError> {
        let secret = run.awaits_secret(flow);
        let outputs = run.input(flow, input.into_flow());
        self.follow_flow(party, flow, run, outputs, secret).await
    }

    /// Turns the interpreter's outputs into actions, answering its searches
    /// and checks.
    async fn follow_flow(
        &self,
        party: Party,
        flow: &Flow,
        mut run: Run,
        outputs: Vec<Output>,
        secret: bool,
    ) -> Result<Step, ServiceError> {
        let ws = party.workspace;
        let mut pending: VecDeque<Output> = outputs.into();
        let mut actions = Vec::new();
        while let Some(o) = pending.pop_front() {
            match o {
                Output::Say { text } => actions.push(Action::Say(text)),
                Output::Play { audio, text } => actions.push(Action::Play { recording: audio, text }),
                Output::Collect { text, digits } => actions.push(Action::Collect {
                    text,
                    min: digits.min,
                    max: digits.max,
                    terminator: digits.terminator,
                    timeout: Duration::from_secs(u64::from(digits.timeout_seconds)),
                }),
                Output::Ask { text, buttons } => actions.push(Action::Ask {
                    text,
                    choices: buttons
                        .into_iter()
                        .map(|b| Choice { label: b.label, value: b.value, key: b.key })
                        .collect(),
                }),
                Output::Search { query } => {
                    let hits = self
                        .store()
                        .search_articles(ws, &query, true, SEARCH_HITS)
                        .await?
                        .into_iter()
                        .map(|h| Hit { title: h.article.title, body: excerpt(&h.article.body), score: h.coverage })
                        .collect();
                    pending.extend(run.input(flow, flow::Input::Search(hits)));
                }
                Output::Verify { check, attribute, order, answer } => {
                    let checked =
                        self.check_answer(ws, party.customer, check, attribute.as_deref(), order, answer).await?;
                    pending.extend(run.input(flow, flow::Input::Verified(checked)));
                }
                Output::Verified { check, outcome } => actions.push(Action::Verified { check, outcome }),
                Output::Handoff { queue, priority, reason, variables } => {
                    actions.push(Action::HandOff { queue, priority, reason, attributes: variables })
                }
                Output::Contained => actions.push(Action::End),
            }
        }
        Ok(Step { run, actions, secret })
    }
}
