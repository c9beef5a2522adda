use super::*;

fn say(text: &str) -> Output {
    Output::Say { text: text.into() }
}

fn ask(text: &str, buttons: &[(&str, &str, Option<&str>)]) -> Output {
    let buttons = buttons
        .iter()
        .map(|(label, value, key)| Button { label: (*label).into(), value: (*value).into(), key: key.map(Into::into) })
        .collect();
    Output::Ask { text: text.into(), buttons }
}

fn text(t: &str) -> Input {
    Input::Text(t.into())
}

fn press(value: &str) -> Input {
    Input::Button { value: value.into() }
}

fn hit(title: &str, body: &str, score: f64) -> Hit {
    Hit { title: title.into(), body: body.into(), score }
}

fn handoff(queue: Option<&str>, priority: i32, reason: HandoffReason, variables: &BTreeMap<String, String>) -> Output {
    Output::Handoff { queue: queue.map(Into::into), priority, reason, variables: variables.clone() }
}

fn menu_ask() -> Output {
    ask("What can I help with?", &[("Billing", "billing", Some("1")), ("Talk to a person", "person", Some("0"))])
}

/// [`FULL`] started for Ada and taken to the knowledge search.
fn at_search() -> (Flow, Run) {
    let f = flow(FULL);
    let (mut run, _) = Run::start(&f, vars(&[("name", "Ada")]));
    run.input(&f, press("billing"));
    assert_eq!(run.input(&f, text("How do I pay?")), [Output::Search { query: "How do I pay?".into() }]);
    (f, run)
}

#[test]
fn a_whole_conversation_that_the_bot_contains() {
    let f = flow(FULL);
    let (mut run, out) = Run::start(&f, vars(&[("name", "Ada")]));
    assert_eq!(out, [say("Hi Ada! I'm the Switchboard bot."), menu_ask()]);
    assert_eq!(run.status(), Status::WaitingForButton);
    assert_eq!(run.block().as_str(), "menu");
    assert_eq!(run.variables(), &vars(&[("name", "Ada"), ("tier", "gold")]));

    assert_eq!(run.input(&f, press("billing")), [ask("Type your question.", &[])]);
    assert_eq!(run.status(), Status::WaitingForText);
    assert_eq!(run.variables()["topic"], "billing");

    assert_eq!(run.input(&f, text("  How do I pay?  ")), [Output::Search { query: "How do I pay?".into() }]);
    assert_eq!(run.status(), Status::WaitingForSearch);
    assert_eq!(run.variables()["question"], "How do I pay?");

    let out = run.input(&f, Input::Search(vec![hit("Paying", "Use a card.", 0.8)]));
    assert_eq!(
        out,
        [say("Paying\n\nUse a card."), ask("Did that answer it?", &[("Yes", "Yes", None), ("No", "No", None)])]
    );

    assert_eq!(run.input(&f, text("yes")), [say("Glad I could help!"), Output::Contained]);
    assert_eq!(run.status(), Status::Contained);
    assert!(run.is_finished());
    assert_eq!(run.block().as_str(), "bye");
}

#[test]
fn a_finished_run_ignores_everything() {
    let (f, mut run) = at_search();
    run.input(&f, Input::Search(Vec::new()));
    assert_eq!(run.status(), Status::HandedOff);
    let before = run.clone();
    for input in [text("hello?"), text("agent"), press("Yes"), Input::Search(vec![hit("a", "b", 1.0)])] {
        assert_eq!(run.input(&f, input), []);
    }
    assert_eq!(run, before);
}

#[test]
fn missing_variables_read_as_empty() {
    let f = flow(FULL);
    let (_, out) = Run::start(&f, BTreeMap::new());
    assert_eq!(out[0], say("Hi ! I'm the Switchboard bot."));
}

#[test]
fn messages_with_nothing_to_say_are_not_said() {
    let json = doc(
        r#""start": "a""#,
        r#""a": {"type": "message", "text": "{{nick}}", "next": "b"}, "b": {"type": "end", "text": " {{nick}} "}"#,
    );
    let (run, out) = Run::start(&flow(&json), BTreeMap::new());
    assert_eq!(out, [Output::Contained]);
    assert_eq!(run.status(), Status::Contained);
}

#[test]
fn buttons_match_value_label_or_key() {
    let f = flow(FULL);
    for typed in ["billing", "BILLING", " Billing. ", "1"] {
        let (mut run, _) = Run::start(&f, BTreeMap::new());
        assert_eq!(run.input(&f, text(typed)), [ask("Type your question.", &[])], "{typed:?}");
        assert_eq!(run.variables()["topic"], "billing");
    }
    // Typed text naming an option is that option, even when it contains a
    // hand-off phrase: the flow offered it, and its target decides.
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    let out = run.input(&f, text("Talk to a person"));
    let mut expected = vars(&[("tier", "gold"), ("topic", "person")]);
    assert_eq!(
        out,
        [say("Connecting you with a person…"), handoff(Some("Support"), 0, HandoffReason::Flow, &expected)]
    );
    // A button press is compared by value first.
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    run.input(&f, press("person"));
    assert_eq!(run.status(), Status::HandedOff);
    // Without a value, the label is what is stored.
    let json = doc(
        r#""start": "m""#,
        r#""m": {"type": "buttons", "text": "Size?", "save_as": "size", "options": [{"label": "Large", "key": "*", "next": "e"}]},
           "e": {"type": "end"}"#,
    );
    let f = flow(&json);
    let (mut run, out) = Run::start(&f, BTreeMap::new());
    assert_eq!(out, [ask("Size?", &[("Large", "Large", Some("*"))])]);
    assert_eq!(run.input(&f, text("*")), [Output::Contained]);
    expected.clear();
    expected.insert("size".into(), "Large".into());
    assert_eq!(run.variables(), &expected);
}

#[test]
fn text_that_matches_no_option() {
    let f = flow(FULL);
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    // With no_match, the flow decides what to say.
    assert_eq!(run.input(&f, text("pizza")), [say("Please pick one."), menu_ask()]);
    // A stale button's value is taken as text too.
    assert_eq!(run.input(&f, press("Yes")), [say("Please pick one."), menu_ask()]);
    assert!(!run.variables().contains_key("topic"));
    // Without, the question is simply asked again.
    run.input(&f, press("billing"));
    run.input(&f, text("q"));
    run.input(&f, Input::Search(vec![hit("t", "b", 0.9)]));
    let again = ask("Did that answer it?", &[("Yes", "Yes", None), ("No", "No", None)]);
    assert_eq!(run.input(&f, text("maybe")), [again]);
    assert_eq!(run.status(), Status::WaitingForButton);
}

#[test]
fn a_menu_answers_typed_questions_from_the_knowledge_base() {
    // The menu keeps text that chooses no option and searches it.
    let mut doc: serde_json::Value = serde_json::from_str(FULL).unwrap();
    doc["blocks"]["menu"]["save_text_as"] = "question".into();
    doc["blocks"]["menu"]["no_match"] = "kb".into();
    doc["blocks"].as_object_mut().unwrap().remove("menu_retry");
    let f = flow(&doc.to_string());
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    // An option, typed, still chooses it; a hand-off phrase still hands off.
    let mut other = run.clone();
    assert_eq!(other.input(&f, text("Billing")), [ask("Type your question.", &[])]);
    let mut other = run.clone();
    assert!(matches!(other.input(&f, text("a person please"))[..], [_, Output::Handoff { .. }]));
    // Anything else is a question for the knowledge base…
    let asked = "How long does a refund take?";
    assert_eq!(run.input(&f, text(&format!("  {asked} "))), [Output::Search { query: asked.into() }]);
    assert_eq!(run.variables()["question"], asked);
    assert!(!run.variables().contains_key("topic"));
    let mut other = run.clone();
    let out = other.input(&f, Input::Search(vec![hit("Refunds", "5 business days.", 0.9)]));
    assert_eq!(out[0], say("Refunds\n\n5 business days."));
    // …and without a good answer, a person.
    let out = run.input(&f, Input::Search(vec![]));
    assert!(matches!(&out[..], [_, Output::Handoff { reason: HandoffReason::LowConfidence, .. }]), "{out:?}");
}

#[test]
fn input_stores_the_answer() {
    let f = flow(FULL);
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    run.input(&f, press("billing"));
    // Nothing typed: asked again.
    assert_eq!(run.input(&f, text("   ")), [ask("Type your question.", &[])]);
    // A button from an earlier question answers with its value.
    assert_eq!(run.input(&f, press("billing")), [Output::Search { query: "billing".into() }]);
    assert_eq!(run.variables()["question"], "billing");
}

#[test]
fn knowledge_threshold() {
    // At the threshold is good enough.
    let (f, mut run) = at_search();
    let out = run.input(&f, Input::Search(vec![hit("Paying", "Use a card.", 0.5)]));
    assert_eq!(out[0], say("Paying\n\nUse a card."));
    assert_eq!(run.block().as_str(), "helped");

    // Below it, not found: a handoff target reports low confidence.
    let (f, mut run) = at_search();
    let out = run.input(&f, Input::Search(vec![hit("Paying", "Use a card.", 0.49)]));
    let expected = run.variables().clone();
    assert_eq!(
        out,
        [say("Connecting you with a person…"), handoff(Some("Support"), 0, HandoffReason::LowConfidence, &expected)]
    );

    // No hits at all.
    let (f, mut run) = at_search();
    let out = run.input(&f, Input::Search(Vec::new()));
    assert!(matches!(out.last(), Some(Output::Handoff { reason: HandoffReason::LowConfidence, .. })));

    // The best hit decides even when the host's order is off, and scores
    // that are not numbers count for nothing.
    let (f, mut run) = at_search();
    let hits = vec![hit("Low", "x", 0.2), hit("Odd", "y", f64::NAN), hit("High", "z", 0.9), hit("Also", "w", 0.9)];
    assert_eq!(run.input(&f, Input::Search(hits))[0], say("High\n\nz"));

    // A hit with only a body (a host-made answer) says only that.
    let (f, mut run) = at_search();
    assert_eq!(run.input(&f, Input::Search(vec![hit("", "Pay by card.", 0.7)]))[0], say("Pay by card."));
}

#[test]
fn not_found_elsewhere_than_a_handoff_is_no_low_confidence_handoff() {
    let json = doc(
        r#""start": "kb""#,
        r#""kb": {"type": "knowledge", "query": "{{q}}", "found": "e", "not_found": "sorry"},
           "sorry": {"type": "message", "text": "Sorry.", "next": "h"},
           "h": {"type": "handoff"},
           "e": {"type": "end"}"#,
    );
    let f = Flow::parse_with(&json, &["q"]).unwrap();
    let (mut run, out) = Run::start(&f, vars(&[("q", "refund")]));
    assert_eq!(out, [Output::Search { query: "refund".into() }]);
    let out = run.input(&f, Input::Search(vec![hit("a", "b", 0.1)]));
    assert_eq!(out, [say("Sorry."), handoff(None, 0, HandoffReason::Flow, &vars(&[("q", "refund")]))]);

    // Nothing to search for: the host is not asked, and it is not found.
    let json = doc(
        r#""start": "kb""#,
        r#""kb": {"type": "knowledge", "query": "{{q}}", "found": "e", "not_found": "h"},
           "h": {"type": "handoff", "queue": "Billing", "priority": 3},
           "e": {"type": "end"}"#,
    );
    let f = Flow::parse_with(&json, &["q"]).unwrap();
    let (_, out) = Run::start(&f, vars(&[("q", "  ")]));
    assert_eq!(out, [handoff(Some("Billing"), 3, HandoffReason::LowConfidence, &vars(&[("q", "  ")]))]);
}

#[test]
fn branch_on_a_variable() {
    let json = doc(
        r#""start": "b""#,
        r#""b": {"type": "branch", "variable": "lang", "cases": {"es": "es", "": "none"}, "else": "other"},
           "es": {"type": "end", "text": "Adiós"},
           "none": {"type": "end", "text": "no language"},
           "other": {"type": "end", "text": "Bye"}"#,
    );
    let f = Flow::parse_with(&json, &["lang"]).unwrap();
    let said = |variables| Run::start(&f, variables).1[0].clone();
    assert_eq!(said(vars(&[("lang", "es")])), say("Adiós"));
    // Exact match only.
    assert_eq!(said(vars(&[("lang", "ES")])), say("Bye"));
    assert_eq!(said(vars(&[("lang", "fr")])), say("Bye"));
    // A missing variable is the empty string.
    assert_eq!(said(BTreeMap::new()), say("no language"));
}

#[test]
fn set_reads_the_variables_as_they_were() {
    let json = doc(
        r#""start": "s""#,
        r#""s": {"type": "set", "values": {"a": "{{b}}!", "b": "new", "c": ""}, "next": "e"},
           "e": {"type": "end", "text": "{{a}} {{b}}"}"#,
    );
    let f = flow(&json);
    let (run, out) = Run::start(&f, vars(&[("b", "old"), ("c", "gone")]));
    assert_eq!(out, [say("old! new"), Output::Contained]);
    assert_eq!(run.variables(), &vars(&[("a", "old!"), ("b", "new"), ("c", "")]));
}

#[test]
fn end_without_text() {
    let (run, out) = Run::start(&flow(&doc(r#""start": "e""#, r#""e": {"type": "end"}"#)), BTreeMap::new());
    assert_eq!(out, [Output::Contained]);
    assert_eq!(run.status(), Status::Contained);
}

#[test]
fn handoff_blocks_carry_queue_priority_reason_and_variables() {
    let json = doc(
        r#""start": "h""#,
        r#""h": {"type": "handoff", "text": "One moment, {{name}}.", "queue": "VIP", "priority": 5, "reason": "asked"}"#,
    );
    let variables = vars(&[("name", "Ada"), ("email", "ada@example.com")]);
    let (run, out) = Run::start(&flow(&json), variables.clone());
    assert_eq!(out, [say("One moment, Ada."), handoff(Some("VIP"), 5, HandoffReason::Asked, &variables)]);
    assert_eq!(run.status(), Status::HandedOff);
    // Without text, queue or reason: the default queue, reason "flow".
    let (_, out) = Run::start(&flow(&doc(r#""start": "h""#, r#""h": {"type": "handoff"}"#)), BTreeMap::new());
    assert_eq!(out, [handoff(None, 0, HandoffReason::Flow, &BTreeMap::new())]);
}

#[test]
fn handoff_phrases_hand_off_at_once() {
    let f = flow(FULL);
    let asked = |run: &Run| {
        [say("Connecting you with a person…"), handoff(Some("Support"), 0, HandoffReason::Asked, run.variables())]
    };
    // At a menu, when no option matches.
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    let out = run.input(&f, text("Can I TALK to   someone?"));
    assert_eq!(out, asked(&run));
    assert_eq!(run.status(), Status::HandedOff);
    assert_eq!(run.block().as_str(), "to_agent");
    // At a question: the answer is not stored.
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    run.input(&f, press("billing"));
    let out = run.input(&f, text("I want a human!"));
    assert_eq!(out, asked(&run));
    assert!(!run.variables().contains_key("question"));
    // While the host searches.
    let (f, mut run) = at_search();
    let out = run.input(&f, text("agent please"));
    assert_eq!(out, asked(&run));
    // Whole words only.
    let f = flow(FULL);
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    run.input(&f, press("billing"));
    assert_eq!(run.input(&f, text("Account management")), [Output::Search { query: "Account management".into() }]);
}

#[test]
fn handoff_phrases_without_a_handoff_block_go_to_the_default_queue() {
    let json = doc(
        r#""start": "q", "handoff_phrases": ["operator"]"#,
        r#""q": {"type": "input", "text": "Yes?", "save_as": "x", "next": "e"}, "e": {"type": "end"}"#,
    );
    let f = flow(&json);
    let (mut run, _) = Run::start(&f, vars(&[("name", "Ada")]));
    let out = run.input(&f, text("OPERATOR"));
    assert_eq!(out, [handoff(None, 0, HandoffReason::Asked, &vars(&[("name", "Ada")]))]);
    // Without phrases nothing is special.
    let f = flow(&doc(
        r#""start": "q""#,
        r#""q": {"type": "input", "text": "Yes?", "save_as": "x", "next": "e"}, "e": {"type": "end"}"#,
    ));
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    assert_eq!(run.input(&f, text("agent")), [Output::Contained]);
}

#[test]
fn unexpected_input_is_ignored() {
    let (f, mut run) = at_search();
    let before = run.clone();
    assert_eq!(run.input(&f, text("hello? anyone?")), []);
    assert_eq!(run.input(&f, press("billing")), []);
    assert_eq!(run, before);
    // The search answer still lands.
    assert_eq!(run.input(&f, Input::Search(vec![hit("t", "b", 0.9)]))[0], say("t\n\nb"));
    // A late second answer is stale.
    assert_eq!(run.input(&f, Input::Search(vec![hit("t", "b", 0.9)])), []);
    assert_eq!(run.status(), Status::WaitingForButton);
}

#[test]
fn a_run_resumes_after_a_json_round_trip() {
    let f = flow(FULL);
    let (mut run, _) = Run::start(&f, vars(&[("name", "Ada")]));
    let stored = serde_json::to_string(&run).unwrap();
    assert_eq!(stored, r#"{"block":"menu","status":"waiting_for_button","variables":{"name":"Ada","tier":"gold"}}"#);
    let inputs =
        [press("billing"), text("How do I pay?"), Input::Search(vec![hit("Paying", "Card.", 0.7)]), text("No")];
    for input in inputs {
        // Every step, the restored run answers exactly as the live one.
        let mut restored: Run = serde_json::from_str(&serde_json::to_string(&run).unwrap()).unwrap();
        assert_eq!(restored, run);
        let live = run.input(&f, input.clone());
        assert_eq!(restored.input(&f, input), live);
        assert_eq!(restored, run);
    }
    assert_eq!(run.status(), Status::HandedOff);
    // Hand-written state (an older server's) without variables still loads.
    let old: Run = serde_json::from_str(r#"{"block":"ask","status":"waiting_for_text"}"#).unwrap();
    assert!(old.variables().is_empty());
}

#[test]
fn outputs_and_inputs_as_json() {
    let out = [
        say("hi"),
        ask("?", &[("Yes", "y", Some("1"))]),
        Output::Search { query: "q".into() },
        handoff(Some("Support"), 1, HandoffReason::LowConfidence, &vars(&[("a", "b")])),
        Output::Contained,
    ];
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        concat!(
            r#"[{"type":"say","text":"hi"},"#,
            r#"{"type":"ask","text":"?","buttons":[{"label":"Yes","value":"y","key":"1"}]},"#,
            r#"{"type":"search","query":"q"},"#,
            r#"{"type":"handoff","queue":"Support","priority":1,"reason":"low_confidence","variables":{"a":"b"}},"#,
            r#"{"type":"contained"}]"#
        )
    );
    let inputs: Vec<Input> = serde_json::from_str(
        r#"[{"text":"hi"},{"button":{"value":"y"}},{"search":[{"title":"t","body":"b","score":0.5}]}]"#,
    )
    .unwrap();
    assert_eq!(inputs, [text("hi"), press("y"), Input::Search(vec![hit("t", "b", 0.5)])]);
    assert_eq!(HandoffReason::LowConfidence.as_str(), "low_confidence");
}

/// A chain of `n` message blocks ending in `end`.
fn chain(n: usize, top: &str) -> String {
    let mut blocks: Vec<String> =
        (0..n).map(|i| format!(r#""m{i}": {{"type": "message", "text": "{i}", "next": "m{}"}}"#, i + 1)).collect();
    blocks.push(format!(r#""m{n}": {{"type": "end"}}"#));
    blocks.push(r#""h": {"type": "handoff", "text": "Over to a person.", "queue": "Support"}"#.into());
    doc(top, &blocks.join(","))
}

#[test]
fn a_runaway_flow_hands_off_after_max_steps() {
    // Valid, but longer than one turn may run.
    let f = flow(&chain(MAX_STEPS + 50, r#""start": "m0", "handoff": "h""#));
    let (run, out) = Run::start(&f, BTreeMap::new());
    assert_eq!(out.len(), MAX_STEPS + 2);
    assert!(out[..MAX_STEPS].iter().all(|o| matches!(o, Output::Say { .. })));
    assert_eq!(
        out[MAX_STEPS..],
        [say("Over to a person."), handoff(Some("Support"), 0, HandoffReason::Flow, &BTreeMap::new())]
    );
    assert_eq!(run.status(), Status::HandedOff);
    // Within the limit it is fine.
    let f = flow(&chain(MAX_STEPS - 1, r#""start": "m0", "handoff": "h""#));
    assert_eq!(Run::start(&f, BTreeMap::new()).1.last(), Some(&Output::Contained));

    // A loop validation would reject, run anyway, ends too.
    let def: Definition = serde_json::from_str(&doc(
        r#""start": "a""#,
        r#""a": {"type": "set", "values": {"n": "{{n}}x"}, "next": "b"}, "b": {"type": "message", "text": "…", "next": "a"}"#,
    ))
    .unwrap();
    assert!(!validate(&def, &[]).is_ok());
    let f = Flow { definition: def, warnings: Vec::new() };
    let (run, out) = Run::start(&f, BTreeMap::new());
    assert_eq!(out.len(), MAX_STEPS / 2 + 1);
    assert!(matches!(out.last(), Some(Output::Handoff { queue: None, reason: HandoffReason::Flow, .. })));
    assert_eq!(run.variables()["n"].len(), MAX_STEPS / 2);
}

#[test]
fn a_run_whose_flow_changed_under_it_hands_off() {
    let f = flow(FULL);
    let (run, _) = Run::start(&f, BTreeMap::new());
    // The menu became a free-text question.
    let mut json: serde_json::Value = serde_json::from_str(FULL).unwrap();
    json["blocks"]["menu"] =
        serde_json::json!({"type": "input", "text": "What can I help with?", "save_as": "topic", "next": "route"});
    json["blocks"].as_object_mut().unwrap().remove("menu_retry");
    let changed = flow(&json.to_string());
    let mut stale = run.clone();
    let out = stale.input(&changed, press("billing"));
    assert_eq!(
        out,
        [say("Connecting you with a person…"), handoff(Some("Support"), 0, HandoffReason::Flow, run.variables())]
    );
    // The block is gone altogether.
    let gone = flow(&doc(r#""start": "e""#, r#""e": {"type": "end"}"#));
    let mut stale = run.clone();
    assert_eq!(stale.input(&gone, text("billing")), [handoff(None, 0, HandoffReason::Flow, run.variables())]);
    assert_eq!(stale.status(), Status::HandedOff);
}

/// An IVR: a recorded welcome, an account number keyed in, a hand-off.
const PHONE: &str = r##"{
  "start": "welcome",
  "blocks": {
    "welcome": {"type": "message", "text": "Welcome to Acme.", "audio": "welcome.wav", "next": "account"},
    "account": {"type": "input", "text": "Key in your account number, then hash.", "save_as": "account",
                "digits": {"min": 4, "max": 8, "retries": 1, "invalid": "sorry"}, "next": "agent"},
    "sorry": {"type": "handoff", "text": "Let me find someone to help.", "reason": "flow"},
    "agent": {"type": "handoff", "text": "Thank you."}
  }
}"##;

fn collect_account() -> Output {
    let digits = Digits {
        min: 4,
        max: 8,
        terminator: "#".into(),
        timeout_seconds: 5,
        retries: 1,
        invalid: Some(BlockId("sorry".into())),
    };
    Output::Collect { text: "Key in your account number, then hash.".into(), digits }
}

#[test]
fn a_recording_is_played_with_its_transcript_and_digits_are_collected() {
    let f = flow(PHONE);
    let (mut run, out) = Run::start(&f, BTreeMap::new());
    assert_eq!(out, [Output::Play { audio: "welcome.wav".into(), text: "Welcome to Acme.".into() }, collect_account()]);
    // The terminator ends the answer and is not kept.
    let out = run.input(&f, text("12345#"));
    assert_eq!(out, [say("Thank you."), handoff(None, 0, HandoffReason::Flow, &vars(&[("account", "12345")]))]);
}

#[test]
fn a_digits_question_is_asked_again_then_gives_up_where_the_flow_says() {
    let f = flow(PHONE);
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    // Too short, then silence: one retry, then the `invalid` block.
    assert_eq!(run.input(&f, text("12#")), [collect_account()]);
    let out = run.input(&f, text(""));
    assert_eq!(out, [say("Let me find someone to help."), handoff(None, 0, HandoffReason::Flow, &BTreeMap::new())]);
    assert_eq!(run.block().as_str(), "sorry");
}

#[test]
fn a_digits_question_without_an_invalid_block_hands_off_for_no_input() {
    let f = flow(
        &PHONE
            .replace(r#", "invalid": "sorry""#, "")
            .replace("\"retries\": 1", "\"retries\": 0")
            .replace(r#""sorry": {"type": "handoff", "text": "Let me find someone to help.", "reason": "flow"},"#, ""),
    );
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    // Letters are not digits.
    let out = run.input(&f, text("abcd"));
    assert_eq!(out, [handoff(None, 0, HandoffReason::NoInput, &BTreeMap::new())]);
}

#[test]
fn a_retry_count_starts_again_with_each_question() {
    let f = flow(PHONE);
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    run.input(&f, text("1"));
    // The count is kept with the run, so a restart does not forgive it.
    let mut restored: Run = serde_json::from_str(&serde_json::to_string(&run).unwrap()).unwrap();
    assert_eq!(restored.input(&f, text("2")).last(), Some(&handoff(None, 0, HandoffReason::Flow, &BTreeMap::new())));
}

#[test]
fn a_hang_up_abandons_the_run_where_it_stood() {
    let f = flow(PHONE);
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    assert_eq!(run.input(&f, Input::HangUp), []);
    assert_eq!(run.status(), Status::Abandoned);
    assert_eq!(run.block().as_str(), "account");
    assert!(run.is_finished());
    assert_eq!(run.input(&f, text("1234#")), []);
}

/// A PIN check with two attempts, escalating to "Security" when it fails.
const VERIFY: &str = r#"{
  "start": "pin",
  "blocks": {
    "pin": {"type": "verify", "text": "Key your PIN, then hash.", "check": "pin", "attempts": 2,
            "verified": "thanks", "queue": "Security"},
    "thanks": {"type": "handoff", "text": "Thank you, you are verified.", "queue": "Billing"}
  }
}"#;

fn collect_pin() -> Output {
    let digits = Digits { min: 4, max: 12, terminator: "#".into(), timeout_seconds: 10, retries: 0, invalid: None };
    Output::Collect { text: "Key your PIN, then hash.".into(), digits }
}

fn check_pin(answer: &str) -> Output {
    Output::Verify { check: Check::Pin, attribute: None, order: DateOrder::Mdy, answer: answer.into() }
}

fn verified(outcome: Outcome) -> Output {
    Output::Verified { check: Check::Pin, outcome }
}

#[test]
fn a_verified_caller_goes_on_and_the_answer_is_never_kept() {
    let f = flow(VERIFY);
    let (mut run, out) = Run::start(&f, BTreeMap::new());
    assert_eq!(out, [collect_pin()]);
    assert_eq!(run.input(&f, text(" 4321# ")), [check_pin("4321")]);
    assert_eq!(run.status(), Status::WaitingForVerification);
    // Anything but the host's verdict meanwhile is stale.
    assert_eq!(run.input(&f, text("9999#")), []);
    assert_eq!(run.input(&f, Input::Search(Vec::new())), []);
    let stored = serde_json::to_string(&run).unwrap();
    assert!(!stored.contains("4321"), "{stored}");
    let out = run.input(&f, Input::Verified(Checked::Match));
    assert_eq!(
        out,
        [
            verified(Outcome::Verified),
            say("Thank you, you are verified."),
            handoff(Some("Billing"), 0, HandoffReason::Flow, &BTreeMap::new())
        ]
    );
    assert!(run.variables().is_empty());
}

#[test]
fn wrong_answers_are_asked_again_then_locked_out_and_escalated() {
    let f = flow(VERIFY);
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    run.input(&f, text("1111"));
    let again = run.input(&f, Input::Verified(Checked::Mismatch));
    assert_eq!(again, [say("That does not match our records. Please try again."), collect_pin()]);
    // The count survives a restart, so hanging the run up and resuming forgives nothing.
    let mut run: Run = serde_json::from_str(&serde_json::to_string(&run).unwrap()).unwrap();
    // Too short to be a PIN: a wrong answer without asking the host.
    let out = run.input(&f, text("12#"));
    assert_eq!(
        out,
        [verified(Outcome::Failed), handoff(Some("Security"), 0, HandoffReason::Verification, &BTreeMap::new())]
    );
    assert_eq!(run.status(), Status::HandedOff);
}

#[test]
fn nothing_to_check_against_is_not_attempted_and_fails_over_at_once() {
    let f = flow(&VERIFY.replace(r#""queue": "Security""#, r#""failed": "manual""#).replace(
        r#""thanks":"#,
        r#""manual": {"type": "message", "text": "An agent will check who you are.", "next": "thanks"}, "thanks":"#,
    ));
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    run.input(&f, text("1234"));
    let out = run.input(&f, Input::Verified(Checked::Unavailable));
    assert_eq!(out[..2], [verified(Outcome::NotAttempted), say("An agent will check who you are.")]);
    // Silence is a wrong answer; one attempt here and the failed block.
    let f = flow(&VERIFY.replace(r#""attempts": 2"#, r#""attempts": 1"#));
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    assert_eq!(run.input(&f, text(""))[0], verified(Outcome::Failed));
}

#[test]
fn a_verify_block_without_queue_or_failed_uses_the_flows_handoff() {
    let f = flow(
        &VERIFY
            .replace(r#", "queue": "Security""#, "")
            .replace(r#""attempts": 2"#, r#""attempts": 1"#)
            .replace(r#""start": "pin","#, r#""start": "pin", "handoff": "thanks","#),
    );
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    run.input(&f, text("1234"));
    let out = run.input(&f, Input::Verified(Checked::Mismatch));
    assert_eq!(out.last(), Some(&handoff(Some("Billing"), 0, HandoffReason::Verification, &BTreeMap::new())));
}

#[test]
fn dates_of_birth_are_checked_against_an_attribute_in_the_keyed_order() {
    let f = flow(
        r#"{"start": "dob", "blocks": {
        "dob": {"type": "verify", "text": "Key your date of birth as day, month, year.", "check": "date_of_birth",
                "date_order": "dmy", "attribute": "dob", "verified": "ok"},
        "ok": {"type": "end"}}}"#,
    );
    let (mut run, out) = Run::start(&f, BTreeMap::new());
    assert!(matches!(&out[0], Output::Collect { digits, .. } if digits.min == 8 && digits.max == 8));
    let out = run.input(&f, text("04071976#"));
    let want = Output::Verify {
        check: Check::DateOfBirth,
        attribute: Some("dob".into()),
        order: DateOrder::Dmy,
        answer: "04071976".into(),
    };
    assert_eq!(out, [want]);
}

#[test]
fn only_a_verify_blocks_answer_is_a_secret() {
    let f = flow(VERIFY);
    let (mut run, _) = Run::start(&f, BTreeMap::new());
    assert!(run.awaits_secret(&f));
    run.input(&f, text("1234"));
    assert!(!run.awaits_secret(&f), "the host checks it now");
    let f = flow(PHONE);
    let (run, _) = Run::start(&f, BTreeMap::new());
    assert!(!run.awaits_secret(&f));
}
