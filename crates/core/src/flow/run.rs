//! The interpreter: one conversation's position in a flow, as a pure state
//! machine.
//!
//! The host feeds it what the customer (or the knowledge base) said and
//! delivers what it answers; it keeps nothing else. A [`Run`] is plain data,
//! so the server stores it with the conversation and carries on after a
//! restart from exactly where it stopped.
//!
//! One call runs blocks until the flow waits (for the customer, or for a
//! search the host must do) or finishes. Validation rejects loops that never
//! wait, but a [`Run`] may meet a flow that was never validated or changed
//! under it, so the interpreter defends itself too: at most [`MAX_STEPS`]
//! blocks per call, and a position that no longer makes sense hands the
//! customer to a person rather than stranding them.

use super::Flow;
use super::definition::{
    Block, BlockId, ButtonOption, Buttons, Check, DateOrder, Digits, Handoff, HandoffReason, InputBlock, Verify,
};
use super::matching;
use super::template::render;
use super::verify::{Checked, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most blocks one call runs before giving up with a hand-off.
pub const MAX_STEPS: usize = 100;

/// Where a conversation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// An `input` block asked a question: free text expected.
    WaitingForText,
    /// A `buttons` block asked: a button press expected (typed text that
    /// names an option works too; other text goes to its `no_match`).
    WaitingForButton,
    /// The host must search and answer with [`Input::Search`].
    WaitingForSearch,
    /// The host must check a `verify` block's answer and tell with
    /// [`Input::Verified`].
    WaitingForVerification,
    /// Finished without a person.
    Contained,
    /// Finished by handing over to a person.
    HandedOff,
    /// Finished because the customer left (hung up) before either.
    Abandoned,
}

impl Status {
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Contained | Status::HandedOff | Status::Abandoned)
    }
}

/// What the host tells the interpreter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// Text the customer typed (or speech recognised, or keys pressed).
    Text(String),
    /// A button pressed: the `value` of an [`Output::Ask`] button.
    Button { value: String },
    /// The answer to [`Output::Search`]: hits best first.
    Search(Vec<Hit>),
    /// The answer to [`Output::Verify`].
    Verified(Checked),
    /// The customer left (hung up the phone): the run finishes
    /// [`Status::Abandoned`] where it stood, answering nothing.
    HangUp,
}

/// A knowledge-base article found by the host, with a score in 0..=1. The
/// interpreter says `title` and `body`; a host with a shorter answer for
/// the customer (a snippet, a generated answer) passes that as `body`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub title: String,
    pub body: String,
    pub score: f64,
}

/// A choice offered with a question: a chat button, or a phone menu key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// What the interpreter asks the host to do, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    /// Say this to the customer (chat message, or text-to-speech).
    Say { text: String },
    /// Say this from a recording (`audio`, by name) where the channel has
    /// sound; `text` is its transcript, shown where it has not.
    Play { audio: String, text: String },
    /// Ask this and wait; `buttons` is empty for a free-text answer.
    Ask { text: String, buttons: Vec<Button> },
    /// Ask this and wait for digits as `digits` describes (keys on a phone,
    /// typed in chat).
    Collect { text: String, digits: Digits },
    /// Search the knowledge base; answer with [`Input::Search`].
    Search { query: String },
    /// Check `answer` (the digits the customer keyed) against the
    /// customer's record: their PIN, or the `attribute` (a date keyed in
    /// `order`); answer with [`Input::Verified`]. The answer is a secret:
    /// the host neither logs nor keeps it.
    Verify { check: Check, attribute: Option<String>, order: DateOrder, answer: String },
    /// A `verify` block finished with this outcome: the host records it on
    /// the contact. (A hand-off may follow, for a failure.)
    Verified { check: Check, outcome: Outcome },
    /// Hand over to a person; the run is finished. `queue` is a queue's name,
    /// `None` for the host's default.
    Handoff { queue: Option<String>, priority: i32, reason: HandoffReason, variables: BTreeMap<String, String> },
    /// The bot handled the conversation; the run is finished.
    Contained,
}

/// One conversation's position in a flow.
///
/// Once finished (after [`Output::Handoff`] or [`Output::Contained`]) a run
/// ignores further input: [`Run::input`] answers nothing, so a late message
/// or search answer racing the hand-off is harmless.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The block waited on, or the one the run finished at.
    block: BlockId,
    status: Status,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    /// Answers to the current digits question that were not digits enough.
    #[serde(default, skip_serializing_if = "is_zero")]
    tries: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Run {
    /// Starts a conversation with the host's variables (name, email,
    /// pre-chat fields) and runs up to the first question.
    pub fn start(flow: &Flow, variables: BTreeMap<String, String>) -> (Run, Vec<Output>) {
        let start = flow.definition().start.clone();
        let mut run = Run { block: start.clone(), status: Status::WaitingForText, variables, tries: 0 };
        let mut out = Vec::new();
        run.go(flow, start, None, &mut out);
        (run, out)
    }

    /// Takes the customer's answer (or the host's search result) and runs on
    /// to the next question or the end.
    ///
    /// Input the current state does not expect is ignored, answering
    /// nothing: a search result while a question is open (a stale search), a
    /// button press while a search is under way. Text while a search is under
    /// way is ignored too, unless it asks for a person.
    pub fn input(&mut self, flow: &Flow, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        if self.status.is_finished() {
            return out;
        }
        if input == Input::HangUp {
            self.status = Status::Abandoned;
            return out;
        }
        if self.status == Status::WaitingForVerification {
            match (flow.block(self.block.as_str()), input) {
                (Some(Block::Verify(v)), Input::Verified(checked)) => self.checked(flow, v, checked, &mut out),
                // Anything else while the host checks is stale: ignored.
                (Some(Block::Verify(_)), _) => {}
                _ => self.give_up(flow, &mut out),
            }
            return out;
        }
        let Some(block) = flow.block(self.block.as_str()) else {
            self.give_up(flow, &mut out);
            return out;
        };
        if waits_as(block) != Some(self.status) {
            // The flow changed under a stored run: this block no longer asks
            // what the run was waiting for.
            self.give_up(flow, &mut out);
            return out;
        }
        match (block, input) {
            (Block::Buttons(b), Input::Button { value }) => {
                let chosen = b.options.iter().find(|o| o.value() == value);
                match chosen.or_else(|| matching::choose(&b.options, &value)) {
                    Some(option) => self.choose(flow, b, option, &mut out),
                    None => self.no_match(flow, b, &mut out),
                }
            }
            (Block::Buttons(b), Input::Text(text)) => {
                // An option typed out is what the flow offered, so it wins
                // over a phrase that happens to be in it ("Agent login").
                if let Some(option) = matching::choose(&b.options, &text) {
                    self.choose(flow, b, option, &mut out);
                } else if asks_for_person(flow, &text) {
                    self.hand_off(flow, HandoffReason::Asked, &mut out);
                } else {
                    if let Some(save_text_as) = &b.save_text_as
                        && !text.trim().is_empty()
                    {
                        self.variables.insert(save_text_as.clone(), text.trim().to_string());
                    }
                    self.no_match(flow, b, &mut out);
                }
            }
            // Only typed text can ask for a person: a button's value is the
            // flow's own word (a stale button from an earlier question).
            (Block::Input(_) | Block::Verify(_), Input::Text(text)) if asks_for_person(flow, &text) => {
                self.hand_off(flow, HandoffReason::Asked, &mut out);
            }
            (
                Block::Input(i @ InputBlock { digits: Some(digits), .. }),
                Input::Text(text) | Input::Button { value: text },
            ) => {
                let answer = text.trim();
                let answer = answer.strip_suffix(digits.terminator.as_str()).unwrap_or(answer).trim();
                if digits.accepts(answer) {
                    self.tries = 0;
                    self.variables.insert(i.save_as.clone(), answer.to_string());
                    self.go(flow, i.next.clone(), None, &mut out);
                } else if self.tries < digits.retries {
                    self.tries += 1;
                    self.go(flow, self.block.clone(), None, &mut out);
                } else {
                    self.tries = 0;
                    match &digits.invalid {
                        Some(invalid) => self.go(flow, invalid.clone(), None, &mut out),
                        None => self.hand_off(flow, HandoffReason::NoInput, &mut out),
                    }
                }
            }
            (Block::Verify(v), Input::Text(text) | Input::Button { value: text }) => {
                let answer = text.trim();
                let answer = answer.strip_suffix('#').unwrap_or(answer).trim();
                if v.digits().accepts(answer) {
                    self.status = Status::WaitingForVerification;
                    out.push(Output::Verify {
                        check: v.check,
                        attribute: v.attribute().map(str::to_string),
                        order: v.date_order,
                        answer: answer.to_string(),
                    });
                } else {
                    // Silence, or not the shape of an answer: a wrong one.
                    self.checked(flow, v, Checked::Mismatch, &mut out);
                }
            }
            (Block::Input(i), Input::Text(text) | Input::Button { value: text }) => {
                if text.trim().is_empty() {
                    self.go(flow, self.block.clone(), None, &mut out);
                } else {
                    self.variables.insert(i.save_as.clone(), text.trim().to_string());
                    self.go(flow, i.next.clone(), None, &mut out);
                }
            }
            (Block::Knowledge(k), Input::Search(hits)) => {
                let best = hits
                    .iter()
                    .filter(|h| h.score.is_finite())
                    .reduce(|best, h| if h.score > best.score { h } else { best });
                match best.filter(|h| h.score >= k.min_score) {
                    Some(hit) => {
                        say(article(hit), &mut out);
                        self.go(flow, k.found.clone(), None, &mut out);
                    }
                    None => self.go(flow, k.not_found.clone(), Some(HandoffReason::LowConfidence), &mut out),
                }
            }
            (Block::Knowledge(_), Input::Text(text)) if asks_for_person(flow, &text) => {
                self.hand_off(flow, HandoffReason::Asked, &mut out);
            }
            _ => {}
        }
        out
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn variables(&self) -> &BTreeMap<String, String> {
        &self.variables
    }

    /// The block waited on, or the one the run finished at.
    pub fn block(&self) -> &BlockId {
        &self.block
    }

    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }

    /// Whether the run waits for a `verify` block's answer: a secret (a
    /// PIN, a date of birth) that the host must not log as the customer
    /// typed or keyed it.
    pub fn awaits_secret(&self, flow: &Flow) -> bool {
        self.status == Status::WaitingForText && matches!(flow.block(self.block.as_str()), Some(Block::Verify(_)))
    }

    fn choose(&mut self, flow: &Flow, b: &Buttons, option: &ButtonOption, out: &mut Vec<Output>) {
        if let Some(save_as) = &b.save_as {
            self.variables.insert(save_as.clone(), option.value().to_string());
        }
        self.go(flow, option.next.clone(), None, out);
    }

    /// Goes on from a `verify` block with the host's verdict on an answer:
    /// on, asked again, or out of attempts (locked out of this check).
    fn checked(&mut self, flow: &Flow, v: &Verify, checked: Checked, out: &mut Vec<Output>) {
        let outcome = match checked {
            Checked::Match => Outcome::Verified,
            Checked::Unavailable => Outcome::NotAttempted,
            Checked::Mismatch if self.tries + 1 < v.attempts => {
                self.tries += 1;
                say(render(&v.retry_text, &self.variables), out);
                return self.go(flow, self.block.clone(), None, out);
            }
            Checked::Mismatch => Outcome::Failed,
        };
        self.tries = 0;
        out.push(Output::Verified { check: v.check, outcome });
        match (outcome, &v.failed, &v.queue) {
            (Outcome::Verified, _, _) => self.go(flow, v.verified.clone(), None, out),
            (_, Some(failed), _) => self.go(flow, failed.clone(), Some(HandoffReason::Verification), out),
            (_, None, Some(queue)) => {
                self.status = Status::HandedOff;
                out.push(Output::Handoff {
                    queue: Some(queue.clone()),
                    priority: 0,
                    reason: HandoffReason::Verification,
                    variables: self.variables.clone(),
                });
            }
            (_, None, None) => self.hand_off(flow, HandoffReason::Verification, out),
        }
    }

    fn no_match(&mut self, flow: &Flow, b: &Buttons, out: &mut Vec<Output>) {
        let next = b.no_match.clone().unwrap_or_else(|| self.block.clone());
        self.go(flow, next, None, out);
    }

    /// Runs blocks from `id` until one waits or the run finishes. `reason`
    /// is why the run is going to `id`, reported if `id` is a handoff block.
    fn go(&mut self, flow: &Flow, mut id: BlockId, mut reason: Option<HandoffReason>, out: &mut Vec<Output>) {
        for _ in 0..MAX_STEPS {
            let Some(block) = flow.block(id.as_str()) else {
                return self.give_up(flow, out);
            };
            self.block = id;
            let next = match block {
                Block::Message(m) => {
                    let text = render(&m.text, &self.variables);
                    match &m.audio {
                        Some(audio) => out.push(Output::Play { audio: audio.clone(), text }),
                        None => say(text, out),
                    }
                    m.next.clone()
                }
                Block::Buttons(b) => {
                    let buttons = b.options.iter().map(button).collect();
                    out.push(Output::Ask { text: render(&b.text, &self.variables), buttons });
                    self.status = Status::WaitingForButton;
                    return;
                }
                Block::Input(i) => {
                    let text = render(&i.text, &self.variables);
                    out.push(match &i.digits {
                        Some(digits) => Output::Collect { text, digits: digits.clone() },
                        None => Output::Ask { text, buttons: Vec::new() },
                    });
                    self.status = Status::WaitingForText;
                    return;
                }
                Block::Verify(v) => {
                    out.push(Output::Collect { text: render(&v.text, &self.variables), digits: v.digits() });
                    self.status = Status::WaitingForText;
                    return;
                }
                Block::Knowledge(k) => {
                    let query = render(&k.query, &self.variables);
                    if query.trim().is_empty() {
                        // Nothing to search for is nothing found; the host
                        // need not be asked.
                        id = k.not_found.clone();
                        reason = Some(HandoffReason::LowConfidence);
                        continue;
                    }
                    out.push(Output::Search { query });
                    self.status = Status::WaitingForSearch;
                    return;
                }
                Block::Branch(b) => {
                    let value = self.variables.get(&b.variable).map(String::as_str).unwrap_or("");
                    b.cases.get(value).unwrap_or(&b.otherwise).clone()
                }
                Block::Set(s) => {
                    // Every value reads the variables as they were before the
                    // block, whatever order the map lists them in.
                    let values: Vec<(String, String)> =
                        s.values.iter().map(|(k, v)| (k.clone(), render(v, &self.variables))).collect();
                    self.variables.extend(values);
                    s.next.clone()
                }
                Block::End(e) => {
                    if let Some(text) = &e.text {
                        say(render(text, &self.variables), out);
                    }
                    out.push(Output::Contained);
                    self.status = Status::Contained;
                    return;
                }
                Block::Handoff(h) => {
                    let reason = reason.or(h.reason).unwrap_or(HandoffReason::Flow);
                    return self.finish_handoff(h, reason, out);
                }
            };
            id = next;
            reason = None;
        }
        self.give_up(flow, out)
    }

    /// Hands off now through the flow's `handoff` block (its text, queue
    /// and priority), or to the host's default queue without one.
    fn hand_off(&mut self, flow: &Flow, reason: HandoffReason, out: &mut Vec<Output>) {
        let def = flow.definition();
        match def.handoff.as_ref().and_then(|id| Some((id, flow.block(id.as_str())?))) {
            Some((id, Block::Handoff(h))) => {
                self.block = id.clone();
                self.finish_handoff(h, reason, out);
            }
            _ => {
                self.status = Status::HandedOff;
                out.push(Output::Handoff { queue: None, priority: 0, reason, variables: self.variables.clone() });
            }
        }
    }

    /// The flow cannot go on (runaway loop, missing block): a person can.
    fn give_up(&mut self, flow: &Flow, out: &mut Vec<Output>) {
        self.hand_off(flow, HandoffReason::Flow, out);
    }

    fn finish_handoff(&mut self, h: &Handoff, reason: HandoffReason, out: &mut Vec<Output>) {
        if let Some(text) = &h.text {
            say(render(text, &self.variables), out);
        }
        out.push(Output::Handoff {
            queue: h.queue.clone(),
            priority: h.priority,
            reason,
            variables: self.variables.clone(),
        });
        self.status = Status::HandedOff;
    }
}

/// What a block waits for, if it waits.
fn waits_as(block: &Block) -> Option<Status> {
    match block {
        Block::Buttons(_) => Some(Status::WaitingForButton),
        Block::Input(_) | Block::Verify(_) => Some(Status::WaitingForText),
        Block::Knowledge(_) => Some(Status::WaitingForSearch),
        _ => None,
    }
}

fn asks_for_person(flow: &Flow, text: &str) -> bool {
    flow.definition().handoff_phrases.iter().any(|p| matching::contains_phrase(text, p))
}

fn button(o: &ButtonOption) -> Button {
    Button { label: o.label.clone(), value: o.value().to_string(), key: o.key.clone() }
}

/// A text with nothing to say (a template of unset variables) is not said:
/// an empty chat bubble or a silent pause helps nobody.
fn say(text: String, out: &mut Vec<Output>) {
    if !text.trim().is_empty() {
        out.push(Output::Say { text });
    }
}

fn article(hit: &Hit) -> String {
    match (hit.title.trim().is_empty(), hit.body.trim().is_empty()) {
        (true, _) => hit.body.clone(),
        (false, true) => hit.title.clone(),
        (false, false) => format!("{}\n\n{}", hit.title, hit.body),
    }
}
