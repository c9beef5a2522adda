//! Whatever the customer and the host send, a run never panics, never
//! strands the customer and always answers in a shape the host can act on;
//! and validation never panics on any definition.

use super::*;
use crate::flow::definition::{
    Branch, ButtonOption, Buttons, Check, DateOrder, Digits, End, Handoff, InputBlock, Knowledge, Message, Set,
    VERSION, Verify,
};
use crate::flow::verify::{Checked, Outcome};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "1",
    "2",
    "0",
    "#",
    "*",
    "billing",
    "Billing question",
    "order",
    "Order status",
    "person",
    "yes",
    "Yes, thanks",
    "no",
    "No, that's all",
    "agent",
    "I want a human",
    "talk to someone",
    "",
    "  ",
    "pizza",
    "Account management",
];

fn hit() -> impl Strategy<Value = Hit> {
    let score = prop_oneof![0.0..=1.0f64, Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), Just(2.0), Just(0.5)];
    ("\\PC{0,12}", "\\PC{0,12}", score).prop_map(|(title, body, score)| Hit { title, body, score })
}

fn input() -> impl Strategy<Value = Input> {
    let word = prop::sample::select(WORDS);
    prop_oneof![
        3 => word.clone().prop_map(|w| Input::Text(w.into())),
        1 => "\\PC{0,30}".prop_map(Input::Text),
        2 => word.prop_map(|w| Input::Button { value: w.into() }),
        2 => prop::collection::vec(hit(), 0..4).prop_map(Input::Search),
        2 => "[0-9]{0,6}#?".prop_map(Input::Text),
        2 => prop::sample::select(&[Checked::Match, Checked::Mismatch, Checked::Unavailable][..]).prop_map(Input::Verified),
        1 => Just(Input::HangUp),
    ]
}

fn variables() -> impl Strategy<Value = BTreeMap<String, String>> {
    let name = prop::sample::select(&["name", "x", "y", "topic", "question"][..]);
    let value = prop_oneof![prop::sample::select(WORDS).prop_map(String::from), "\\PC{0,10}"];
    prop::collection::btree_map(name.prop_map(String::from), value, 0..4)
}

/// Checks what one call answered against where the run now stands.
fn check_turn(f: &Flow, run: &Run, out: &[Output], validated: bool) {
    assert!(out.len() <= MAX_STEPS + 3, "{} outputs", out.len());
    let last_only = |o: &Output| !matches!(o, Output::Say { .. } | Output::Play { .. } | Output::Verified { .. });
    if let Some(i) = out.iter().position(last_only) {
        assert_eq!(i, out.len() - 1, "only the last output may ask, search or finish: {out:?}");
    }
    assert!(f.block(run.block().as_str()).is_some() || !validated, "at an unknown block {}", run.block());
    let Some(last) = out.last() else {
        return;
    };
    assert_ne!(run.status(), Status::Abandoned, "a hang-up answers nothing");
    match (run.status(), last) {
        (Status::WaitingForText, Output::Ask { buttons, .. }) => assert!(buttons.is_empty()),
        (Status::WaitingForText, Output::Collect { digits, .. }) => assert!(digits.min <= digits.max || !validated),
        (Status::WaitingForButton, Output::Ask { buttons, .. }) => assert!(!buttons.is_empty() || !validated),
        (Status::WaitingForSearch, Output::Search { query }) => assert!(!query.trim().is_empty()),
        (Status::WaitingForVerification, Output::Verify { check, answer, .. }) => {
            let (min, max) = check.lengths();
            assert!((usize::from(min)..=usize::from(max)).contains(&answer.len()), "{answer:?}");
            assert!(answer.bytes().all(|b| b.is_ascii_digit()));
        }
        (Status::Contained, Output::Contained) => {}
        (Status::HandedOff, Output::Handoff { reason, variables, .. }) => {
            if *reason == HandoffReason::Verification {
                let outcome = out.iter().rev().find_map(|o| match o {
                    Output::Verified { outcome, .. } => Some(*outcome),
                    _ => None,
                });
                assert!(outcome.is_some_and(|o| o != Outcome::Verified), "{out:?}");
            }
            assert_eq!(variables, run.variables());
            // A valid flow never makes the interpreter give up: a "flow"
            // hand-off there is a handoff block the flow led to.
            if validated && *reason == HandoffReason::Flow {
                assert!(matches!(f.block(run.block().as_str()), Some(Block::Handoff(_))));
            }
        }
        (status, last) => panic!("status {status:?} after {last:?}"),
    }
}

/// Drives a run with `inputs`, checking every turn and that a run restored
/// from JSON answers exactly as the live one.
fn drive(f: &Flow, variables: BTreeMap<String, String>, inputs: Vec<Input>, validated: bool) {
    let (mut run, out) = Run::start(f, variables);
    assert!(!out.is_empty(), "a run starts by saying or asking something");
    check_turn(f, &run, &out, validated);
    for input in inputs {
        let before = run.status();
        let mut restored: Run = serde_json::from_str(&serde_json::to_string(&run).unwrap()).unwrap();
        assert_eq!(restored, run);
        let out = run.input(f, input.clone());
        assert_eq!(restored.input(f, input), out);
        assert_eq!(restored, run);
        if before.is_finished() {
            assert!(out.is_empty());
            assert_eq!(run.status(), before);
        }
        check_turn(f, &run, &out, validated);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn random_input_to_the_demo_flow(vars in variables(), inputs in prop::collection::vec(input(), 0..30)) {
        drive(&Flow::parse(example()).unwrap(), vars, inputs, true);
    }

    #[test]
    fn random_input_to_the_full_example(vars in variables(), inputs in prop::collection::vec(input(), 0..30)) {
        drive(&flow(FULL), vars, inputs, true);
    }

}

proptest! {
    // Roughly one definition in six validates; the rest exercise validation.
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_definitions(
        def in definition(),
        vars in variables(),
        inputs in prop::collection::vec(input(), 0..20),
    ) {
        let report = validate(&def, &["name"]);
        // Parsing the JSON form finds exactly what validating the value does.
        let json = serde_json::to_string(&def).unwrap();
        match Flow::parse_with(&json, &["name"]) {
            Ok(f) => {
                prop_assert!(report.is_ok(), "{:?}", report.errors);
                prop_assert_eq!(f.warnings(), &report.warnings[..]);
                drive(&f, vars, inputs, true);
            }
            Err(e) => prop_assert_eq!(e.errors, report.errors),
        }
        // Even unvalidated, the interpreter must hold.
        drive(&Flow { definition: def, warnings: Vec::new() }, BTreeMap::new(), Vec::new(), false);
    }
}

/// One block, with its targets as indices into the block list (one past the
/// end names a block that does not exist).
#[derive(Clone, Debug)]
struct BlockSpec {
    kind: u8,
    targets: [usize; 3],
    options: usize,
    text: &'static str,
    variable: &'static str,
    score: f64,
}

fn block_spec(n: usize, i: usize) -> impl Strategy<Value = BlockSpec> {
    // Mostly links forward, so that many definitions validate (no loop
    // without a question, every block reachable); some anywhere, and a few
    // to a block that does not exist.
    let forward = if i + 1 < n { (i + 1)..n } else { 0..n };
    let target = prop_oneof![12 => forward, 3 => 0..n, 1 => Just(n)];
    // The last block mostly finishes.
    let kind = if i + 1 == n { prop_oneof![8 => 6u8..8, 1 => 0u8..6].boxed() } else { (0u8..9).boxed() };
    (
        kind,
        [target.clone(), target.clone(), target],
        prop_oneof![1 => Just(0usize), 8 => 1usize..4],
        prop_oneof![
            20 => prop::sample::select(&["hi {{name}}", "q", "{{x}}", "{{topic}} {{y}}"][..]),
            1 => prop::sample::select(&["", "  ", "{{broken"][..]),
        ],
        prop_oneof![20 => prop::sample::select(&["x", "y", "topic", "name"][..]), 1 => Just("a b")],
        prop_oneof![20 => prop::sample::select(&[0.0, 0.5, 1.0][..]), 1 => Just(1.5)],
    )
        .prop_map(|(kind, targets, options, text, variable, score)| BlockSpec {
            kind,
            targets,
            options,
            text,
            variable,
            score,
        })
}

fn definition() -> impl Strategy<Value = Definition> {
    (1usize..9)
        .prop_flat_map(|n| {
            (
                (0..n).map(|i| block_spec(n, i)).collect::<Vec<_>>(),
                prop_oneof![20 => Just(0), 1 => 0..=n],
                prop_oneof![4 => Just(None), 4 => Just(Some(n + 1)), 1 => (0..=n).prop_map(Some)],
                prop_oneof![
                    20 => prop::sample::subsequence(&["agent", "human"][..], 0..=2),
                    1 => Just(vec!["?!"]),
                ],
            )
        })
        .prop_map(|(specs, start, handoff, phrases)| {
            let n = specs.len();
            // Index n names no block; n + 1 is the flow's own hand-off block.
            let name = |i: usize| {
                BlockId(match i {
                    i if i < n => format!("b{i}"),
                    i if i == n => "missing".into(),
                    _ => "operator".into(),
                })
            };
            let mut blocks: BTreeMap<BlockId, Block> =
                specs.iter().enumerate().map(|(i, s)| (name(i), build(s, &name))).collect();
            if handoff == Some(n + 1) {
                let text = Some("Connecting you.".into());
                let block = Handoff { text, queue: None, priority: 0, reason: Some(HandoffReason::Asked) };
                blocks.insert(name(n + 1), Block::Handoff(block));
            }
            Definition {
                version: VERSION,
                start: name(start),
                handoff_phrases: phrases.into_iter().map(String::from).collect(),
                handoff: handoff.map(name),
                blocks,
            }
        })
}

fn build(s: &BlockSpec, name: &dyn Fn(usize) -> BlockId) -> Block {
    let [a, b, c] = s.targets;
    let text = s.text.to_string();
    match s.kind {
        0 => Block::Message(Message { text, audio: (b % 2 == 0).then(|| "welcome.wav".into()), next: name(a) }),
        1 => Block::Buttons(Buttons {
            text,
            options: (0..s.options)
                .map(|i| ButtonOption {
                    label: ["Yes", "No", "Maybe"][i].into(),
                    value: (i == 1).then(|| "n".into()),
                    key: Some(["1", "2", "3"][i].into()),
                    next: name([a, b, c][i]),
                })
                .collect(),
            save_as: Some(s.variable.into()),
            no_match: (c % 2 == 0).then(|| name(c)),
            save_text_as: (c % 2 == 0 && a % 2 == 0).then(|| s.variable.into()),
        }),
        2 => Block::Input(InputBlock {
            text,
            save_as: s.variable.into(),
            next: name(a),
            digits: (b % 2 == 0).then(|| Digits {
                min: 1,
                max: 4,
                terminator: "#".into(),
                timeout_seconds: 5,
                retries: (c % 3) as u32,
                invalid: (c % 2 == 0).then(|| name(c)),
            }),
        }),
        3 => Block::Knowledge(Knowledge { query: text, min_score: s.score, found: name(a), not_found: name(b) }),
        4 => Block::Branch(Branch {
            variable: s.variable.into(),
            cases: [("yes".to_string(), name(a)), ("n".to_string(), name(b))].into(),
            otherwise: name(c),
        }),
        5 => Block::Set(Set { values: [(s.variable.to_string(), text)].into(), next: name(a) }),
        6 => Block::End(End { text: Some(text) }),
        7 => Block::Handoff(Handoff { text: Some(text), queue: Some("Support".into()), priority: 1, reason: None }),
        _ => Block::Verify(Verify {
            text,
            check: [Check::Pin, Check::AccountNumber, Check::DateOfBirth][b % 3],
            attribute: None,
            date_order: if b % 3 == 2 { [DateOrder::Mdy, DateOrder::Ymd][c % 2] } else { DateOrder::Mdy },
            attempts: (c % 4) as u32,
            retry_text: "Again.".into(),
            timeout_seconds: 5,
            verified: name(a),
            failed: (b % 2 == 0).then(|| name(c)),
            queue: (b % 2 == 1 && c % 2 == 0).then(|| "Security".into()),
        }),
    }
}
