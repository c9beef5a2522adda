//! The stored form of a flow: what an author writes and the server keeps, one
//! JSON document per version.
//!
//! These types only describe shape; whether the blocks fit together (targets
//! exist, no endless loops, …) is [`super::validate`]'s job, so that every
//! problem is reported at once instead of the first one serde meets.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

/// The format version this crate reads and writes. A definition without
/// `version` is version 1, so that hand-written flows need not say it.
pub const VERSION: u32 = 1;

/// The name of a block, unique within its flow.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlockId(pub String);

impl BlockId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for BlockId {
    fn from(s: &str) -> Self {
        BlockId(s.to_string())
    }
}

/// Lets a `BTreeMap<BlockId, _>` be searched with a `&str`.
impl Borrow<str> for BlockId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A whole flow as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    #[serde(default = "default_version")]
    pub version: u32,
    /// The block a conversation begins with.
    pub start: BlockId,
    /// Customer text containing one of these (as whole words, any case) hands
    /// the conversation to a person at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handoff_phrases: Vec<String>,
    /// The handoff block used when a phrase matches or the interpreter has to
    /// give up; without it such hand-offs go to the host's default queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<BlockId>,
    #[serde(deserialize_with = "unique_blocks")]
    pub blocks: BTreeMap<BlockId, Block>,
}

fn default_version() -> u32 {
    VERSION
}

/// One step of a conversation. Text fields are templates (`{{variable}}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Message(Message),
    Buttons(Buttons),
    Input(InputBlock),
    Knowledge(Knowledge),
    Verify(Verify),
    Branch(Branch),
    Set(Set),
    End(End),
    Handoff(Handoff),
}

impl Block {
    /// The `type` as written, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Block::Message(_) => "message",
            Block::Buttons(_) => "buttons",
            Block::Input(_) => "input",
            Block::Knowledge(_) => "knowledge",
            Block::Verify(_) => "verify",
            Block::Branch(_) => "branch",
            Block::Set(_) => "set",
            Block::End(_) => "end",
            Block::Handoff(_) => "handoff",
        }
    }

    /// Whether the interpreter stops here until the customer answers. Only
    /// such blocks may close a cycle: anything else would loop without end.
    pub fn waits_for_customer(&self) -> bool {
        matches!(self, Block::Buttons(_) | Block::Input(_) | Block::Verify(_))
    }

    /// Whether a conversation finishes here.
    pub fn is_final(&self) -> bool {
        matches!(self, Block::End(_) | Block::Handoff(_))
    }

    /// Every block this one can lead to, with the field path (relative to the
    /// block) that names it, in the order the fields are written.
    pub fn targets(&self) -> Vec<(String, &BlockId)> {
        match self {
            Block::Message(m) => vec![("next".into(), &m.next)],
            Block::Buttons(b) => {
                let mut out: Vec<(String, &BlockId)> =
                    b.options.iter().enumerate().map(|(i, o)| (format!("options[{i}].next"), &o.next)).collect();
                if let Some(no_match) = &b.no_match {
                    out.push(("no_match".into(), no_match));
                }
                out
            }
            Block::Input(i) => {
                let mut out = vec![("next".into(), &i.next)];
                if let Some(invalid) = i.digits.as_ref().and_then(|d| d.invalid.as_ref()) {
                    out.push(("digits.invalid".into(), invalid));
                }
                out
            }
            Block::Knowledge(k) => vec![("found".into(), &k.found), ("not_found".into(), &k.not_found)],
            Block::Verify(v) => {
                let mut out = vec![("verified".into(), &v.verified)];
                if let Some(failed) = &v.failed {
                    out.push(("failed".into(), failed));
                }
                out
            }
            Block::Branch(b) => {
                let mut out: Vec<(String, &BlockId)> =
                    b.cases.iter().map(|(value, target)| (format!("cases{}", key_path(value)), target)).collect();
                out.push(("else".into(), &b.otherwise));
                out
            }
            Block::Set(s) => vec![("next".into(), &s.next)],
            Block::End(_) | Block::Handoff(_) => Vec::new(),
        }
    }
}

/// Says `text`, then goes on to `next`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub text: String,
    /// A recording (by name) that a voice channel plays instead of speaking
    /// `text`; channels without sound show `text`, its transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
    pub next: BlockId,
}

/// Asks `text` with a choice of options (chat buttons, or phone keys).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buttons {
    pub text: String,
    pub options: Vec<ButtonOption>,
    /// Stores the chosen option's value in this variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_as: Option<String>,
    /// Where free text that matches no option goes; without it the question
    /// is asked again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_match: Option<BlockId>,
    /// Keeps free text that matches no option in this variable before going
    /// to `no_match`, so that a customer who types their question instead of
    /// pressing a button can be answered (a `knowledge` block searching it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_text_as: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonOption {
    pub label: String,
    /// What is stored and sent back when chosen; the label when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The phone key (`0`–`9`, `*`, `#`) that chooses this option; typing it
    /// in chat chooses it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub next: BlockId,
}

impl ButtonOption {
    /// The value stored and sent back when this option is chosen.
    pub fn value(&self) -> &str {
        self.value.as_deref().unwrap_or(&self.label)
    }
}

/// Asks `text` and stores the customer's free-text answer in `save_as`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputBlock {
    pub text: String,
    pub save_as: String,
    pub next: BlockId,
    /// The answer is digits (an account or order number keyed on a phone):
    /// how many, how to end them, and what happens when they do not come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<Digits>,
}

/// How an `input` block collects digits. Chat takes them typed; a phone
/// collects key presses until `max` are pressed, the `terminator` is
/// pressed, or `timeout_seconds` pass without a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Digits {
    #[serde(default = "Digits::default_min")]
    pub min: u8,
    #[serde(default = "Digits::default_max")]
    pub max: u8,
    /// The key that ends the answer early (`#` unless set; `""` for none).
    #[serde(default = "Digits::default_terminator")]
    pub terminator: String,
    #[serde(default = "Digits::default_timeout")]
    pub timeout_seconds: u32,
    /// How many more times the question is asked after an answer that is
    /// missing or not `min`..=`max` digits.
    #[serde(default = "Digits::default_retries")]
    pub retries: u32,
    /// Where the conversation goes when the retries run out; without it, to
    /// a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<BlockId>,
}

impl Digits {
    /// The longest answer a flow may ask for: longer than any card or
    /// account number, short enough that a stuck key cannot fill memory.
    pub const MAX: u8 = 32;

    fn default_min() -> u8 {
        1
    }
    fn default_max() -> u8 {
        Digits::MAX
    }
    fn default_terminator() -> String {
        "#".into()
    }
    fn default_timeout() -> u32 {
        5
    }
    fn default_retries() -> u32 {
        2
    }

    /// Whether `answer` is what this block asks for.
    pub fn accepts(&self, answer: &str) -> bool {
        let n = answer.chars().count();
        n >= usize::from(self.min) && n <= usize::from(self.max) && answer.chars().all(|c| c.is_ascii_digit())
    }
}

/// Searches the knowledge base for `query` (through the host) and says the
/// best article when it scores at least `min_score`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knowledge {
    pub query: String,
    #[serde(default = "default_min_score")]
    pub min_score: f64,
    pub found: BlockId,
    pub not_found: BlockId,
}

/// The threshold when a knowledge block names none: the host's scores are
/// normalised to 0..=1, and an even chance is the least worth saying.
pub const DEFAULT_MIN_SCORE: f64 = 0.5;

fn default_min_score() -> f64 {
    DEFAULT_MIN_SCORE
}

/// Asks the customer to key something only they should know (a PIN, their
/// account number, their date of birth) and has the host check it against
/// the customer's record. A wrong answer is asked again until `attempts`
/// are used up; then the customer is locked out of this check and goes to
/// `failed`, or without it to a person in `queue`. The keyed answer is
/// never kept: not in the run's variables, not in the transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    pub text: String,
    pub check: Check,
    /// The customer attribute compared for `account_number` and
    /// `date_of_birth` (by default the check's own name); a PIN is kept
    /// hashed apart from the attributes and names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// How a date of birth is keyed: `mdy` (`07041976`), `dmy` or `ymd`.
    #[serde(default, skip_serializing_if = "DateOrder::is_default")]
    pub date_order: DateOrder,
    /// Answers allowed before the lockout, the first one included.
    #[serde(default = "Verify::default_attempts")]
    pub attempts: u32,
    /// Said before asking again after a wrong answer.
    #[serde(default = "Verify::default_retry_text")]
    pub retry_text: String,
    /// Seconds without a key before a phone gives up on an answer (which
    /// counts as a wrong one).
    #[serde(default = "Verify::default_timeout")]
    pub timeout_seconds: u32,
    pub verified: BlockId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<BlockId>,
    /// The queue (by name) a customer who failed is escalated to when there
    /// is no `failed` block; the host's default queue when absent too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
}

impl Verify {
    /// Attempts may be at most this many: the check is a secret's, and
    /// each answer is a guess.
    pub const MAX_ATTEMPTS: u32 = 5;

    fn default_attempts() -> u32 {
        3
    }
    fn default_retry_text() -> String {
        "That does not match our records. Please try again.".into()
    }
    fn default_timeout() -> u32 {
        10
    }

    /// The customer attribute an answer is compared with (none for a PIN).
    pub fn attribute(&self) -> Option<&str> {
        match self.check {
            Check::Pin => None,
            Check::AccountNumber | Check::DateOfBirth => Some(self.attribute.as_deref().unwrap_or(self.check.as_str())),
        }
    }

    /// How the answer is collected: the lengths the check allows, ended by `#`.
    pub fn digits(&self) -> Digits {
        let (min, max) = self.check.lengths();
        Digits { min, max, terminator: "#".into(), timeout_seconds: self.timeout_seconds, retries: 0, invalid: None }
    }
}

/// What a `verify` block checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A PIN the customer was given, kept hashed by the host.
    Pin,
    /// The number of their account (an attribute).
    AccountNumber,
    /// Their date of birth (an attribute, `YYYY-MM-DD`).
    DateOfBirth,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Pin => "pin",
            Check::AccountNumber => "account_number",
            Check::DateOfBirth => "date_of_birth",
        }
    }

    /// The shortest and longest answer, in digits.
    pub fn lengths(self) -> (u8, u8) {
        match self {
            Check::Pin => (PIN_MIN, PIN_MAX),
            Check::AccountNumber => (1, Digits::MAX),
            Check::DateOfBirth => (8, 8),
        }
    }
}

/// A PIN's length in digits, as the host accepts one to be set.
pub const PIN_MIN: u8 = 4;
pub const PIN_MAX: u8 = 12;

/// The order a date of birth's eight digits are keyed in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    #[default]
    Mdy,
    Dmy,
    Ymd,
}

impl DateOrder {
    fn is_default(&self) -> bool {
        *self == DateOrder::default()
    }
}

/// Goes to `cases[value of variable]` (exact match), else to `else`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub variable: String,
    #[serde(default)]
    pub cases: BTreeMap<String, BlockId>,
    #[serde(rename = "else")]
    pub otherwise: BlockId,
}

/// Sets variables (values are templates), then goes on to `next`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Set {
    pub values: BTreeMap<String, String>,
    pub next: BlockId,
}

/// Says `text` if any and finishes: the bot handled the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct End {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Why a conversation went to a person (reported in `bot_handoff` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The customer asked for one: a hand-off phrase, or an option whose
    /// handoff block says `"reason": "asked"`.
    Asked,
    /// The knowledge base had no answer good enough.
    LowConfidence,
    /// The flow led there, or the interpreter could not go on.
    Flow,
    /// A digits question got no valid answer in its tries, and names no
    /// block to go to then.
    NoInput,
    /// A `verify` block's check failed (or could not be made) and names no
    /// block to go to then: the customer is escalated to its queue.
    Verification,
}

impl HandoffReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffReason::Asked => "asked",
            HandoffReason::LowConfidence => "low_confidence",
            HandoffReason::Flow => "flow",
            HandoffReason::NoInput => "no_input",
            HandoffReason::Verification => "verification",
        }
    }
}

/// Says `text` if any and hands the conversation to a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The queue's name; the host's default chat queue when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default)]
    pub priority: i32,
    /// The reason reported when the flow simply arrives here (say `asked` for
    /// a "Talk to a person" option); `flow` when absent. A phrase or a failed
    /// knowledge search leading here reports its own reason instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<HandoffReason>,
}

/// A map key as a path segment: `.billing`, or `["two words"]` when the key
/// would not read as one segment.
pub fn key_path(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        format!(".{key}")
    } else {
        format!("[{}]", serde_json::Value::String(key.to_string()))
    }
}

/// serde's maps keep the last of two equal keys silently; a flow with two
/// blocks of the same name is a mistake the author must hear about.
fn unique_blocks<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<BlockId, Block>, D::Error> {
    struct Blocks;
    impl<'de> Visitor<'de> for Blocks {
        type Value = BTreeMap<BlockId, Block>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of blocks by name")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(id) = map.next_key::<BlockId>()? {
                if out.contains_key(&id) {
                    return Err(serde::de::Error::custom(format_args!("two blocks are named '{id}'")));
                }
                let block = map.next_value()?;
                out.insert(id, block);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Blocks)
}
