//! Arbitrary input never panics the expression language or the flow parser.
//!
//! Both read text that arrives over HTTP from any workspace's admin, and a
//! panic or a stack overflow there takes the whole server down. Each test is
//! a loop over a seeded generator that mixes random characters with
//! fragments of the grammar and mutations of real inputs, so that most cases
//! get past the lexer and exercise the parser, the checks and evaluation.
//! `FUZZ_CASES` and `FUZZ_SEED` widen or vary a run; failures print the seed
//! and the input.

use std::collections::BTreeMap;
use std::time::Instant;
use switchboard_core::attributes::Attributes;
use switchboard_core::channel::Channel;
use switchboard_core::expr::{AgentFacts, ContactFacts, Expr, Value};
use switchboard_core::flow::{Flow, Input, Run};
use switchboard_core::ids::AgentId;
use switchboard_core::rng::Rng;
use switchboard_core::skills::{SkillRegistry, SkillTable};

const CORPUS: &str = include_str!("corpus/expressions.txt");
const SKILLS: [&str; 4] = ["billing", "spanish", "tier2", "trainee"];

fn cases() -> usize {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(9)
}

/// Runs one case, naming it if it panics; `f` says whether the input was
/// accepted.
fn survives(case: usize, seed: u64, input: &str, f: impl FnOnce() -> bool + std::panic::UnwindSafe) -> bool {
    std::panic::catch_unwind(f).unwrap_or_else(|_| panic!("case {case} (FUZZ_SEED={seed}) panicked on {input:?}"))
}

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[rng.below(from.len())]
}

/// A character from anywhere: ASCII punctuation most often, since that is
/// what the lexer dispatches on, and sometimes any code point.
fn any_char(rng: &mut Rng) -> char {
    match rng.below(4) {
        0 => char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}'),
        _ => (b' ' + rng.below(95) as u8) as char,
    }
}

fn corpus() -> Vec<&'static str> {
    CORPUS.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

const FRAGMENTS: &[&str] = &[
    "billing",
    "spanish",
    "tier2",
    "trainee",
    "agent.",
    "agent.id",
    "agent.billing",
    "contact.",
    "contact.vip",
    "contact.language",
    "contact.preferred_agents",
    "contact.priority",
    "contact.channel",
    "contact.x",
    "1",
    "0",
    "10",
    "11",
    "2.5",
    "-1",
    "1e20",
    "1e999",
    ".5",
    "'es'",
    "\"x\"",
    "'",
    "\"",
    "\\",
    "true",
    "false",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "&&",
    "||",
    "&",
    "|",
    "!",
    "in",
    "not",
    "and",
    "or",
    " ",
    "  ",
    "é",
    "\u{0}",
    "🙂",
];

fn expression(rng: &mut Rng, corpus: &[&str]) -> String {
    match rng.below(8) {
        // Random characters.
        0 => (0..rng.below(24)).map(|_| any_char(rng)).collect(),
        // A real expression with a few characters changed, removed or added.
        1 | 2 => {
            let mut chars: Vec<char> = pick(rng, corpus).chars().collect();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 if at < chars.len() => chars[at] = any_char(rng),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ => chars.insert(at, any_char(rng)),
                }
            }
            chars.into_iter().collect()
        }
        // Two real expressions joined, or one nested deeply.
        3 => {
            let join = pick(rng, &[" && ", " || ", " in ", " == ", " ", ""]);
            format!("{}{join}{}", pick(rng, corpus), pick(rng, corpus))
        }
        4 => {
            let n = rng.below(200);
            let open = pick(rng, &["(", "!", "not ", "[", "!("]);
            let close = if open.contains('(') {
                ")"
            } else if open == "[" {
                "]"
            } else {
                ""
            };
            format!("{}{}{}", open.repeat(n), pick(rng, corpus), close.repeat(n))
        }
        // Grammar fragments in random order.
        _ => {
            let n = 1 + rng.below(12);
            let mut s = String::new();
            for _ in 0..n {
                s.push_str(pick(rng, FRAGMENTS));
                if rng.below(2) == 0 {
                    s.push(' ');
                }
            }
            s
        }
    }
}

fn attribute(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::Num(rng.below(21) as f64 - 5.0),
        3 => Value::Str(pick(rng, &["es", "x", "", "voice", "ES,MX"]).to_string()),
        4 => Value::Num(f64::NAN),
        _ => Value::List(vec![Value::Num(1.0), Value::from("es")]),
    }
}

#[test]
fn expressions_never_panic_on_any_string() {
    let mut registry = SkillRegistry::new();
    for s in SKILLS {
        registry.intern(s);
    }
    let corpus = corpus();
    for line in &corpus {
        Expr::parse(line, &registry).unwrap_or_else(|e| panic!("corpus line does not parse:\n{}", e.caret(line)));
    }
    let mut skills = SkillTable::default();
    skills.set(registry.get("billing").unwrap(), 5);
    skills.set(registry.get("spanish").unwrap(), 1);
    let (n, seed) = (cases(), seed());
    let mut rng = Rng::seeded(seed);
    let started = Instant::now();
    let mut parsed = 0;
    for case in 0..n {
        let src = expression(&mut rng, &corpus);
        let attributes: BTreeMap<String, Value> =
            ["vip", "language", "x", "score"].iter().map(|k| (k.to_string(), attribute(&mut rng))).collect();
        parsed += usize::from(survives(case, seed, &src, || {
            let Ok(e) = Expr::parse(&src, &registry) else { return false };
            assert_eq!(e.to_string(), src);
            let facts = ContactFacts {
                attributes: &Attributes::from(attributes.clone()),
                preferred_agents: &[AgentId(1)],
                priority: 3,
                channel: Channel::Chat,
            };
            let p = e.bind(&facts);
            let _ = p.matches(AgentFacts { id: AgentId(1), skills: &skills });
            let _ = (p.constant(), e.skills(), e.reads_contact());
            true
        }));
    }
    eprintln!("expressions: {n} cases ({parsed} parsed) in {:.1?}", started.elapsed());
    // The generator is only useful if a fair share gets past the parser.
    assert!(parsed * 20 > n, "only {parsed} of {n} parsed");
}

/// Small definitions that validate, for mutation: one of each block type.
const FLOWS: &[&str] = &[
    r#"{"start":"a","blocks":{"a":{"type":"message","text":"Hi {{name}}","next":"b"},"b":{"type":"end"}}}"#,
    r#"{"start":"m","handoff":"h","handoff_phrases":["agent"],"blocks":{"m":{"type":"buttons","text":"Pick","options":[{"label":"One","key":"1","next":"k"},{"label":"Two","value":"2","next":"h"}],"save_as":"choice","no_match":"m"},"k":{"type":"knowledge","query":"{{choice}}","min_score":0.3,"found":"e","not_found":"h"},"e":{"type":"end","text":"Bye"},"h":{"type":"handoff","queue":"Support","priority":2,"reason":"asked"}}}"#,
    r#"{"version":1,"start":"i","blocks":{"i":{"type":"input","text":"Order?","save_as":"order","next":"s"},"s":{"type":"set","values":{"x":"{{order}}{{order}}"},"next":"b"},"b":{"type":"branch","variable":"x","cases":{"11":"e","two words":"i"},"else":"i"},"e":{"type":"end"}}}"#,
];

const JSON_FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\"type\"",
    "\"message\"",
    "\"buttons\"",
    "\"handoff\"",
    "\"end\"",
    "\"next\"",
    "\"start\"",
    "\"blocks\"",
    "\"a\"",
    "\"b\"",
    "null",
    "true",
    "1",
    "-1",
    "1e999",
    "\"{{\"",
    "\"}}\"",
    "\"{{x}}\"",
    "\\u0000",
    "\"options\"",
    "[]",
    "{}",
];

fn definition(rng: &mut Rng) -> String {
    let base = pick(rng, FLOWS);
    match rng.below(6) {
        0 => (0..rng.below(40)).map(|_| any_char(rng)).collect(),
        // Deep nesting where a block or a value belongs.
        1 => {
            let n = rng.below(300);
            let (open, close) = if rng.below(2) == 0 { ("[", "]") } else { ("{\"a\":", "}") };
            base.replacen("\"Hi {{name}}\"", &format!("{}1{}", open.repeat(n), close.repeat(n)), 1)
        }
        // Fragments spliced in at random byte positions (on char boundaries).
        2 | 3 => {
            let mut s = base.to_string();
            for _ in 0..1 + rng.below(3) {
                let mut at = rng.below(s.len() + 1);
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                let fragment =
                    if rng.below(3) == 0 { any_char(rng).to_string() } else { pick(rng, JSON_FRAGMENTS).into() };
                s.insert_str(at, &fragment);
            }
            s
        }
        // A span cut out.
        4 => {
            let mut chars: Vec<char> = base.chars().collect();
            let at = rng.below(chars.len());
            let len = rng.below(12).min(chars.len() - at);
            chars.drain(at..at + len);
            chars.into_iter().collect()
        }
        // One value swapped for another token.
        _ => {
            let from = pick(rng, &["\"b\"", "\"end\"", "\"text\"", "1", "\"a\"", "\"next\"", "\"Support\"", "0.3"]);
            base.replacen(from, pick(rng, JSON_FRAGMENTS), 1)
        }
    }
}

#[test]
fn flow_definitions_never_panic_on_any_text() {
    for f in FLOWS {
        Flow::parse(f).unwrap_or_else(|e| panic!("{f}: {e:?}"));
    }
    let (n, seed) = (cases(), seed());
    let mut rng = Rng::seeded(seed);
    let started = Instant::now();
    let mut valid = 0;
    for case in 0..n {
        let src = definition(&mut rng);
        let text = pick(&mut rng, &["1", "agent", "One", "", "pizza"]);
        valid += usize::from(survives(case, seed, &src, || {
            let Ok(flow) = Flow::parse(&src) else { return false };
            let (mut run, _) = Run::start(&flow, BTreeMap::from([("name".into(), "{{name}}".into())]));
            let _ = run.input(&flow, Input::Text(text.into()));
            let _ = flow.to_json();
            true
        }));
    }
    eprintln!("flow definitions: {n} cases ({valid} valid) in {:.1?}", started.elapsed());
    assert!(valid * 20 > n, "only {valid} of {n} valid");
}
