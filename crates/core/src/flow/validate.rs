//! Checks that a definition's blocks fit together, collecting every problem.
//!
//! An author fixing a flow in the admin page wants the whole list at once,
//! each naming the place to fix as a path (`blocks.menu.options[1].next`) that
//! the HTTP API returns as its `field`. Problems that cannot break a
//! conversation (a variable nobody sets reads as empty) are warnings.

use super::definition::{
    Block, BlockId, ButtonOption, Check, DateOrder, Definition, Digits, VERSION, Verify, key_path,
};
use super::graph::Graph;
use super::{matching, template};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Why a definition was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// The text is not JSON, or not JSON of the right shape at a place no
    /// field path can name (two blocks with one name, say).
    #[error("line {line}, column {column}: {message}")]
    Json { line: usize, column: usize, message: String },
    /// A part of the definition is wrong; `field` is its path.
    #[error("{field}: {message}")]
    Field { field: String, message: String },
}

impl FlowError {
    pub(crate) fn at(field: impl Into<String>, message: impl Into<String>) -> Self {
        FlowError::Field { field: field.into(), message: message.into() }
    }

    /// The path of the offending part (the HTTP API's `field`), when there
    /// is one: JSON syntax errors have a line and column instead.
    pub fn field(&self) -> Option<&str> {
        match self {
            FlowError::Json { .. } => None,
            FlowError::Field { field, .. } => Some(field),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            FlowError::Json { message, .. } | FlowError::Field { message, .. } => message,
        }
    }
}

/// Something worth telling the author that does not stop the flow running.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub field: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every error of a rejected definition, and the warnings found with them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", lines(errors))]
pub struct FlowErrors {
    pub errors: Vec<FlowError>,
    pub warnings: Vec<Warning>,
}

fn lines(errors: &[FlowError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// What [`validate`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub errors: Vec<FlowError>,
    pub warnings: Vec<Warning>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks `def`. `known_variables` are those the host seeds every run with
/// (name, email, pre-chat fields): reading them is not worth a warning.
pub fn validate(def: &Definition, known_variables: &[&str]) -> Report {
    let mut c = Checker::new(def, known_variables);
    c.top_level();
    for (id, block) in &def.blocks {
        c.block(id, block);
    }
    c.graph();
    c.report
}

struct Checker<'a> {
    def: &'a Definition,
    /// Variables the host provides or some block sets: reading any other is
    /// worth a warning.
    set: BTreeSet<String>,
    /// Whether some target names no block.
    broken_links: bool,
    report: Report,
}

/// `blocks.menu`, or `blocks["odd name"]` for a name that is not one segment.
fn block_path(id: &BlockId) -> String {
    format!("blocks{}", key_path(id.as_str()))
}

/// Block names appear in field paths, so they must not contain the path's
/// own punctuation.
fn is_block_name(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// The index that first had `key`, recording `i` when it is the first.
fn seen<K: Ord>(first: &mut BTreeMap<K, usize>, key: K, i: usize) -> Option<usize> {
    match first.get(&key) {
        Some(&f) => Some(f),
        None => {
            first.insert(key, i);
            None
        }
    }
}

/// The keys of a telephone keypad, so that a chat menu also works as a
/// voice menu.
fn is_phone_key(key: &str) -> bool {
    matches!(key, "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "*" | "#")
}

impl<'a> Checker<'a> {
    fn new(def: &'a Definition, known: &[&str]) -> Self {
        let mut set: BTreeSet<String> = known.iter().map(|k| k.to_string()).collect();
        for block in def.blocks.values() {
            match block {
                Block::Buttons(b) => set.extend(b.save_as.iter().chain(&b.save_text_as).cloned()),
                Block::Input(i) => {
                    set.insert(i.save_as.clone());
                }
                Block::Set(s) => set.extend(s.values.keys().cloned()),
                _ => {}
            }
        }
        Checker { def, set, broken_links: false, report: Report::default() }
    }

    fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.report.errors.push(FlowError::at(field, message));
    }

    fn warn(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.report.warnings.push(Warning { field: field.into(), message: message.into() });
    }

    fn top_level(&mut self) {
        let def = self.def;
        if def.version != VERSION {
            self.error(
                "version",
                format!("unsupported version {} (this Switchboard reads version {VERSION})", def.version),
            );
        }
        self.target("start", &def.start);
        if let Some(handoff) = &def.handoff {
            match def.blocks.get(handoff.as_str()) {
                None => self.error("handoff", format!("unknown block '{handoff}'")),
                Some(Block::Handoff(_)) => {}
                Some(other) => {
                    let kind = other.kind();
                    let a = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                    self.error("handoff", format!("'{handoff}' is {a} {kind} block, not a handoff block"))
                }
            }
        }
        for (i, phrase) in def.handoff_phrases.iter().enumerate() {
            if matching::words(phrase).is_empty() {
                self.error(format!("handoff_phrases[{i}]"), "must contain a word");
            }
        }
        if def.blocks.is_empty() {
            self.error("blocks", "at least one block");
        }
    }

    fn block(&mut self, id: &BlockId, block: &Block) {
        let path = block_path(id);
        if !is_block_name(id.as_str()) {
            self.error(&path, "a block name may use only letters, digits, '_' and '-'");
        }
        let at = |field: &str| format!("{path}.{field}");
        match block {
            Block::Message(m) => {
                self.text(&at("text"), &m.text, true);
                if m.audio.as_deref().is_some_and(|a| a.trim().is_empty()) {
                    self.error(at("audio"), "must name a recording (leave it out to speak the text)");
                }
            }
            Block::Buttons(b) => {
                self.text(&at("text"), &b.text, true);
                self.options(&at("options"), &b.options);
                if let Some(save_as) = &b.save_as {
                    self.variable_name(&at("save_as"), save_as);
                }
                if let Some(save_text_as) = &b.save_text_as {
                    self.variable_name(&at("save_text_as"), save_text_as);
                    if b.no_match.is_none() {
                        self.error(at("save_text_as"), "needs no_match: the block that answers the typed text");
                    }
                }
            }
            Block::Input(i) => {
                self.text(&at("text"), &i.text, true);
                self.variable_name(&at("save_as"), &i.save_as);
                if let Some(d) = &i.digits {
                    self.digits(&at("digits"), d);
                }
            }
            Block::Knowledge(k) => {
                self.text(&at("query"), &k.query, true);
                if !(0.0..=1.0).contains(&k.min_score) {
                    self.error(at("min_score"), "must be between 0 and 1");
                }
            }
            Block::Verify(v) => {
                self.text(&at("text"), &v.text, true);
                self.text(&at("retry_text"), &v.retry_text, false);
                if !(1..=Verify::MAX_ATTEMPTS).contains(&v.attempts) {
                    self.error(at("attempts"), format!("between 1 and {}", Verify::MAX_ATTEMPTS));
                }
                if !(1..=60).contains(&v.timeout_seconds) {
                    self.error(at("timeout_seconds"), "between 1 and 60");
                }
                match (&v.attribute, v.check) {
                    (Some(_), Check::Pin) => {
                        self.error(at("attribute"), "a PIN is kept apart from the attributes: leave it out")
                    }
                    (Some(a), _) if a.trim().is_empty() => {
                        self.error(at("attribute"), "must name an attribute (leave it out for the check's name)")
                    }
                    _ => {}
                }
                if v.date_order != DateOrder::default() && v.check != Check::DateOfBirth {
                    self.error(at("date_order"), "only a date_of_birth check has one");
                }
                match (&v.failed, &v.queue) {
                    (Some(_), Some(_)) => {
                        self.error(at("queue"), "either failed (a block) or queue (to escalate to), not both")
                    }
                    (None, Some(q)) if q.trim().is_empty() => {
                        self.error(at("queue"), "must not be empty (leave it out for the default queue)")
                    }
                    _ => {}
                }
            }
            Block::Branch(b) => {
                if self.variable_name(&at("variable"), &b.variable) && !self.set.contains(&b.variable) {
                    let message = format!("variable '{}' is never set by the flow or the host", b.variable);
                    self.warn(at("variable"), message);
                }
            }
            Block::Set(s) => {
                if s.values.is_empty() {
                    self.error(at("values"), "at least one variable");
                }
                for (name, value) in &s.values {
                    let field = format!("{}{}", at("values"), key_path(name));
                    // An empty value is allowed: it clears the variable.
                    if self.variable_name(&field, name) {
                        self.text(&field, value, false);
                    }
                }
            }
            Block::End(e) => {
                if let Some(text) = &e.text {
                    self.text(&at("text"), text, false);
                }
            }
            Block::Handoff(h) => {
                if let Some(text) = &h.text {
                    self.text(&at("text"), text, false);
                }
                if h.queue.as_deref().is_some_and(|q| q.trim().is_empty()) {
                    self.error(at("queue"), "must not be empty (leave it out for the default queue)");
                }
            }
        }
        for (field, target) in block.targets() {
            self.target(&at(&field), target);
        }
    }

    fn target(&mut self, field: &str, target: &BlockId) {
        if !self.def.blocks.contains_key(target.as_str()) {
            self.broken_links = true;
            self.error(field, format!("unknown block '{target}'"));
        }
    }

    /// Checks a template: present when `required`, well formed, and reading
    /// only variables that something sets.
    fn text(&mut self, field: &str, text: &str, required: bool) {
        if required && text.trim().is_empty() {
            self.error(field, "must not be empty");
            return;
        }
        if let Err(e) = template::parse(text) {
            self.error(field, format!("column {}: {}", e.column, e.message));
            return;
        }
        let unset: Vec<&str> = template::variables(text).into_iter().filter(|v| !self.set.contains(*v)).collect();
        let mut warned = BTreeSet::new();
        for v in unset {
            if warned.insert(v) {
                self.warn(field, format!("variable '{v}' is never set by the flow or the host"));
            }
        }
    }

    fn digits(&mut self, field: &str, d: &Digits) {
        if d.min == 0 {
            self.error(format!("{field}.min"), "at least 1");
        }
        if d.max > Digits::MAX {
            self.error(format!("{field}.max"), format!("at most {}", Digits::MAX));
        }
        if d.min > d.max {
            self.error(format!("{field}.max"), format!("must not be less than min ({})", d.min));
        }
        if !(d.terminator.is_empty() || d.terminator == "#" || d.terminator == "*") {
            self.error(format!("{field}.terminator"), "'#', '*' or \"\" for none");
        }
        if !(1..=60).contains(&d.timeout_seconds) {
            self.error(format!("{field}.timeout_seconds"), "between 1 and 60");
        }
        if d.retries > 9 {
            self.error(format!("{field}.retries"), "at most 9");
        }
    }

    fn variable_name(&mut self, field: &str, name: &str) -> bool {
        let ok = template::is_variable_name(name);
        if !ok {
            self.error(field, "a variable name uses letters, digits, '_', '-' and '.'");
        }
        ok
    }

    fn options(&mut self, field: &str, options: &[ButtonOption]) {
        if options.is_empty() {
            self.error(field, "at least one option");
        }
        // Each of label, value and key picks an option from what the
        // customer typed or pressed, so each must pick only one.
        let mut labels: BTreeMap<String, usize> = BTreeMap::new();
        let mut values: BTreeMap<&str, usize> = BTreeMap::new();
        let mut keys: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, o) in options.iter().enumerate() {
            let at = |part: &str| format!("{field}[{i}].{part}");
            if o.label.trim().is_empty() {
                self.error(at("label"), "must not be empty");
            } else if let Some(first) = seen(&mut labels, o.label.trim().to_lowercase(), i) {
                self.error(at("label"), format!("'{}' is already the label of options[{first}]", o.label));
            }
            if o.value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                self.error(at("value"), "must not be empty (leave it out to use the label)");
            }
            let first_value = seen(&mut values, o.value(), i);
            if let (Some(first), Some(value)) = (first_value, &o.value) {
                self.error(at("value"), format!("'{value}' is already the value of options[{first}]"));
            }
            if let Some(key) = &o.key {
                if !is_phone_key(key) {
                    self.error(at("key"), "must be a phone key: 0 to 9, * or #");
                } else if let Some(first) = seen(&mut keys, key.as_str(), i) {
                    self.error(at("key"), format!("'{key}' is already the key of options[{first}]"));
                }
            }
        }
    }

    fn graph(&mut self) {
        let def = self.def;
        let g = Graph::new(def);
        let Some(start) = g.get(def.start.as_str()) else { return };
        for cycle in g.busy_cycles(Some(start)) {
            let names: Vec<&str> = cycle.iter().map(|&n| g.ids[n].as_str()).collect();
            let message = format!("a cycle of blocks that never wait for the customer ({})", names.join(" → "));
            self.error(block_path(g.ids[cycle[0]]), message);
        }
        // A broken link makes everything after it look unreachable and the
        // conversation look endless: one typo would bury itself under a page
        // of consequences. Those checks wait until the links are fixed.
        if self.broken_links {
            return;
        }
        // The hand-off block is entered from anywhere, by a phrase or when
        // the interpreter gives up, so it counts as reachable on its own.
        let mut roots = vec![start];
        roots.extend(def.handoff.as_ref().and_then(|h| g.get(h.as_str())));
        let reachable = g.reachable(&roots);
        for (n, id) in g.ids.iter().enumerate() {
            if !reachable[n] {
                self.error(block_path(id), "unreachable from start");
            }
        }
        let can_finish = g.can_finish();
        let from_start = g.reachable(&[start]);
        if !(0..g.ids.len()).any(|n| from_start[n] && def.blocks[g.ids[n]].is_final()) {
            self.error("start", "no end or handoff block can be reached, so a conversation never finishes");
            return;
        }
        for (n, id) in g.ids.iter().enumerate() {
            if from_start[n] && !can_finish[n] {
                self.warn(block_path(id), "no end or handoff block can be reached from here");
            }
        }
    }
}

/// What a flow cannot do on a phone, where the caller has only keys: every
/// option of a `buttons` block needs its key (a menu without keys would be
/// read out as a question nobody can answer), and an `input` block needs
/// `digits` (there is no speech recognition: a free-text answer cannot be
/// given). Empty when the flow works on a phone.
pub fn on_phone(def: &Definition) -> Vec<FlowError> {
    let mut errors = Vec::new();
    for (id, block) in &def.blocks {
        let path = block_path(id);
        match block {
            Block::Buttons(b) => {
                for (i, o) in b.options.iter().enumerate().filter(|(_, o)| o.key.is_none()) {
                    errors.push(FlowError::at(
                        format!("{path}.options[{i}].key"),
                        format!("on a phone an option is chosen by its key: give '{}' one (\"1\")", o.label),
                    ));
                }
            }
            Block::Input(input) if input.digits.is_none() => errors.push(FlowError::at(
                format!("{path}.digits"),
                "on a phone there is no speech recognition: the answer must be keyed, so give `digits`",
            )),
            _ => {}
        }
    }
    errors
}
