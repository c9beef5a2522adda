use super::*;

/// Replaces one block of [`FULL`] (or adds it), keeping the rest.
fn with_block(id: &str, block: &str) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(FULL).unwrap();
    doc["blocks"][id] = serde_json::from_str(block).unwrap();
    doc.to_string()
}

fn with_top(field: &str, value: &str) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(FULL).unwrap();
    doc[field] = serde_json::from_str(value).unwrap();
    doc.to_string()
}

#[test]
fn the_full_example_and_the_demo_flow_validate_cleanly() {
    assert!(warnings(FULL).is_empty(), "{:?}", warnings(FULL));
    let demo = Flow::parse_with(example(), &["name"]).unwrap_or_else(|e| panic!("{e}"));
    assert!(demo.warnings().is_empty(), "{:?}", demo.warnings());
    // Without the host's variables the demo still validates, and says
    // which variable it expects.
    let demo = Flow::parse(example()).unwrap();
    let said: Vec<String> = demo.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        said,
        [
            "blocks.greet.variable: variable 'name' is never set by the flow or the host",
            "blocks.welcome.text: variable 'name' is never set by the flow or the host",
        ]
    );
}

#[test]
fn unknown_targets_name_the_field() {
    let menu = r#"{"type": "buttons", "text": "?", "options": [{"label": "A", "next": "bye"}, {"label": "B", "next": "asdf"}], "no_match": "nope"}"#;
    assert_eq!(
        errors(&with_block("menu", menu)),
        [
            "blocks.menu.options[1].next: unknown block 'asdf'",
            "blocks.menu.no_match: unknown block 'nope'",
            // Nothing leads to route any more, but the broken links say all
            // there is to say until they are mended.
        ]
    );
    assert_eq!(errors(&with_top("start", r#""x""#)), ["start: unknown block 'x'"]);
    assert_eq!(
        errors(&with_block(
            "route",
            r#"{"type": "branch", "variable": "topic", "cases": {"billing": "ask", "two words": "zz"}, "else": "yy"}"#
        )),
        ["blocks.route.cases[\"two words\"]: unknown block 'zz'", "blocks.route.else: unknown block 'yy'"]
    );
    assert_eq!(
        errors(&with_block("kb", r#"{"type": "knowledge", "query": "q", "found": "f", "not_found": "nf"}"#)),
        ["blocks.kb.found: unknown block 'f'", "blocks.kb.not_found: unknown block 'nf'",]
    );
    assert_eq!(
        errors(&with_block("welcome", r#"{"type": "message", "text": "Hi", "next": "gone"}"#)),
        ["blocks.welcome.next: unknown block 'gone'"]
    );
}

#[test]
fn the_example_paths_of_the_spec() {
    let json = with_block(
        "menu",
        r#"{"type": "buttons", "text": "?", "save_as": "topic", "options": [{"label": "A", "next": "route"}, {"label": "B", "next": "asdf"}], "no_match": "menu_retry"}"#,
    );
    assert_eq!(errors(&json), ["blocks.menu.options[1].next: unknown block 'asdf'"]);
}

#[test]
fn min_score_is_a_probability() {
    for bad in ["1.5", "-0.1"] {
        let kb = format!(
            r#"{{"type": "knowledge", "query": "{{{{question}}}}", "min_score": {bad}, "found": "helped", "not_found": "to_agent"}}"#
        );
        assert_eq!(errors(&with_block("kb", &kb)), ["blocks.kb.min_score: must be between 0 and 1"]);
    }
    for good in ["0", "1", "0.75"] {
        let kb = format!(
            r#"{{"type": "knowledge", "query": "q", "min_score": {good}, "found": "helped", "not_found": "to_agent"}}"#
        );
        flow(&with_block("kb", &kb));
    }
    // Absent, it is the default.
    let f =
        flow(&with_block("kb", r#"{"type": "knowledge", "query": "q", "found": "helped", "not_found": "to_agent"}"#));
    assert!(matches!(f.block("kb"), Some(Block::Knowledge(k)) if k.min_score == definition::DEFAULT_MIN_SCORE));
}

#[test]
fn unreachable_blocks() {
    assert_eq!(errors(&with_block("x", r#"{"type": "end"}"#)), ["blocks.x: unreachable from start"]);
    // The top-level handoff block is entered by phrases, so it counts as
    // reachable even when no block leads to it.
    let json = doc(
        r#""start": "a", "handoff": "h", "handoff_phrases": ["agent"]"#,
        r#""a": {"type": "end"}, "h": {"type": "handoff"}"#,
    );
    flow(&json);
}

#[test]
fn options_must_be_distinct_and_keyed_like_a_phone() {
    let menu = |options: &str| {
        with_block(
            "menu",
            &format!(
                r#"{{"type": "buttons", "text": "?", "save_as": "topic", "options": {options}, "no_match": "menu_retry"}}"#
            ),
        )
    };
    assert_eq!(
        errors(&menu("[]")),
        [
            "blocks.menu.options: at least one option",
            "blocks.ask: unreachable from start",
            "blocks.bye: unreachable from start",
            "blocks.helped: unreachable from start",
            "blocks.kb: unreachable from start",
            "blocks.route: unreachable from start",
            "start: no end or handoff block can be reached, so a conversation never finishes",
        ]
    );
    assert_eq!(
        errors(&menu(
            r##"[{"label": "Billing", "value": "billing", "key": "1", "next": "route"},
                {"label": "Person", "value": "person", "key": "1", "next": "to_agent"},
                {"label": "billing ", "value": "billing", "key": "x", "next": "to_agent"},
                {"label": " ", "value": "", "key": "#", "next": "to_agent"},
                {"label": "Other", "key": "1", "next": "to_agent"}]"##
        )),
        [
            "blocks.menu.options[1].key: '1' is already the key of options[0]",
            "blocks.menu.options[2].label: 'billing ' is already the label of options[0]",
            "blocks.menu.options[2].value: 'billing' is already the value of options[0]",
            "blocks.menu.options[2].key: must be a phone key: 0 to 9, * or #",
            "blocks.menu.options[3].label: must not be empty",
            "blocks.menu.options[3].value: must not be empty (leave it out to use the label)",
            "blocks.menu.options[4].key: '1' is already the key of options[0]",
        ]
    );
}

#[test]
fn cycles_that_never_wait_are_rejected() {
    let json = doc(
        r#""start": "loop""#,
        r#""loop": {"type": "message", "text": "again and", "next": "again"},
           "again": {"type": "set", "values": {"x": "1"}, "next": "loop"},
           "out": {"type": "end"}"#,
    );
    assert_eq!(
        errors(&json),
        [
            "blocks.loop: a cycle of blocks that never wait for the customer (loop → again → loop)",
            "blocks.out: unreachable from start",
            "start: no end or handoff block can be reached, so a conversation never finishes",
        ]
    );
    // A block leading to itself.
    let json = doc(
        r#""start": "b""#,
        r#""b": {"type": "branch", "variable": "x", "cases": {"1": "b"}, "else": "e"}, "e": {"type": "end"}"#,
    );
    assert_eq!(errors(&json), ["blocks.b: a cycle of blocks that never wait for the customer (b → b)"]);
    // Searching is not waiting for the customer: the host answers at once.
    let json = doc(
        r#""start": "kb""#,
        r#""kb": {"type": "knowledge", "query": "q", "found": "kb", "not_found": "h"}, "h": {"type": "handoff"}"#,
    );
    assert_eq!(errors(&json), ["blocks.kb: a cycle of blocks that never wait for the customer (kb → kb)"]);
    // A question in the loop makes it a conversation, not a hang.
    let json = doc(
        r#""start": "m""#,
        r#""m": {"type": "message", "text": "hi", "next": "q"},
           "q": {"type": "input", "text": "more?", "save_as": "more", "next": "b"},
           "b": {"type": "branch", "variable": "more", "cases": {"no": "e"}, "else": "m"},
           "e": {"type": "end"}"#,
    );
    flow(&json);
}

#[test]
fn a_conversation_must_be_able_to_finish() {
    let json =
        doc(r#""start": "q""#, r#""q": {"type": "input", "text": "Say something", "save_as": "x", "next": "q"}"#);
    assert_eq!(errors(&json), ["start: no end or handoff block can be reached, so a conversation never finishes"]);
    // Reaching one from start is enough; a part that cannot finish is a
    // warning (the customer can still ask for a person).
    let json = doc(
        r#""start": "menu""#,
        r#""menu": {"type": "buttons", "text": "?", "options": [{"label": "Stop", "next": "e"}, {"label": "Chat", "next": "q"}]},
           "q": {"type": "input", "text": "Say something", "save_as": "x", "next": "q"},
           "e": {"type": "end"}"#,
    );
    assert_eq!(warnings(&json), ["blocks.q: no end or handoff block can be reached from here"]);
}

#[test]
fn the_top_level_handoff_must_be_a_handoff_block() {
    assert_eq!(errors(&with_top("handoff", r#""bye""#)), ["handoff: 'bye' is an end block, not a handoff block"]);
    assert_eq!(errors(&with_top("handoff", r#""nobody""#)), ["handoff: unknown block 'nobody'"]);
    assert_eq!(
        errors(&with_top("handoff_phrases", r#"["agent", "", "?!"]"#)),
        ["handoff_phrases[1]: must contain a word", "handoff_phrases[2]: must contain a word",]
    );
}

#[test]
fn typed_text_kept_by_a_menu_needs_somewhere_to_go() {
    let menu =
        r#"{"type": "buttons", "text": "?", "options": [{"label": "A", "next": "route"}], "save_text_as": "question"}"#;
    assert_eq!(
        errors(&with_block("menu", menu))[0],
        "blocks.menu.save_text_as: needs no_match: the block that answers the typed text"
    );
    let menu = r#"{"type": "buttons", "text": "?", "options": [{"label": "A", "next": "route"}], "save_text_as": "a b", "no_match": "menu_retry"}"#;
    assert_eq!(
        errors(&with_block("menu", menu)),
        ["blocks.menu.save_text_as: a variable name uses letters, digits, '_', '-' and '.'"]
    );
}

#[test]
fn required_text_and_names() {
    assert_eq!(
        errors(&with_block("welcome", r#"{"type": "message", "text": "  ", "next": "tag"}"#)),
        ["blocks.welcome.text: must not be empty"]
    );
    assert_eq!(
        errors(&with_block("ask", r#"{"type": "input", "text": "", "save_as": "question", "next": "kb"}"#)),
        ["blocks.ask.text: must not be empty"]
    );
    assert_eq!(
        errors(&with_block("ask", r#"{"type": "input", "text": "?", "save_as": "a question", "next": "kb"}"#)),
        ["blocks.ask.save_as: a variable name uses letters, digits, '_', '-' and '.'"]
    );
    assert_eq!(
        errors(&with_block("kb", r#"{"type": "knowledge", "query": "", "found": "helped", "not_found": "to_agent"}"#)),
        ["blocks.kb.query: must not be empty"]
    );
    assert_eq!(
        errors(&with_block(
            "helped",
            r#"{"type": "buttons", "text": "", "options": [{"label": "Yes", "next": "bye"}]}"#
        )),
        ["blocks.helped.text: must not be empty"]
    );
    assert_eq!(
        errors(&with_block("tag", r#"{"type": "set", "values": {}, "next": "menu"}"#)),
        ["blocks.tag.values: at least one variable"]
    );
    assert_eq!(
        errors(&with_block("tag", r#"{"type": "set", "values": {"a b": "x", "ok": ""}, "next": "menu"}"#)),
        ["blocks.tag.values[\"a b\"]: a variable name uses letters, digits, '_', '-' and '.'"]
    );
    assert_eq!(
        errors(&with_block("route", r#"{"type": "branch", "variable": "", "else": "to_agent"}"#)),
        [
            "blocks.route.variable: a variable name uses letters, digits, '_', '-' and '.'",
            "blocks.ask: unreachable from start",
            "blocks.bye: unreachable from start",
            "blocks.helped: unreachable from start",
            "blocks.kb: unreachable from start",
        ]
    );
    assert_eq!(
        errors(&with_block("to_agent", r#"{"type": "handoff", "queue": " "}"#)),
        ["blocks.to_agent.queue: must not be empty (leave it out for the default queue)"]
    );
    assert_eq!(
        errors(&with_block("odd name", r#"{"type": "end"}"#)),
        [
            "blocks[\"odd name\"]: a block name may use only letters, digits, '_' and '-'",
            "blocks[\"odd name\"]: unreachable from start",
        ]
    );
    assert_eq!(
        errors(&with_top("version", "2")),
        ["version: unsupported version 2 (this Switchboard reads version 1)"]
    );
    assert_eq!(errors(&doc(r#""start": "x""#, "")), ["start: unknown block 'x'", "blocks: at least one block"]);
}

#[test]
fn templates_are_checked() {
    assert_eq!(
        errors(&with_block("welcome", r#"{"type": "message", "text": "Hi {{name", "next": "tag"}"#)),
        ["blocks.welcome.text: column 4: '{{' is never closed by '}}'"]
    );
    assert_eq!(
        errors(&with_block("bye", r#"{"type": "end", "text": "Bye {{}}"}"#)),
        ["blocks.bye.text: column 5: '{{}}' names no variable"]
    );
    // Reading a variable nobody sets is only a warning: it reads as empty.
    assert_eq!(
        warnings(&with_block("bye", r#"{"type": "end", "text": "Bye {{nick}} {{nick}} {{tier}} {{email}}"}"#)),
        ["blocks.bye.text: variable 'nick' is never set by the flow or the host"]
    );
    assert_eq!(
        warnings(&with_block("tag", r#"{"type": "set", "values": {"tier": "{{level}}"}, "next": "menu"}"#)),
        ["blocks.tag.values.tier: variable 'level' is never set by the flow or the host"]
    );
    assert_eq!(
        warnings(&with_block("route", r#"{"type": "branch", "variable": "plan", "else": "ask"}"#)),
        ["blocks.route.variable: variable 'plan' is never set by the flow or the host"]
    );
    // The host's list silences them.
    let json = with_block("bye", r#"{"type": "end", "text": "Bye {{nick}}"}"#);
    assert!(Flow::parse_with(&json, &["name", "nick"]).unwrap().warnings().is_empty());
}

#[test]
fn json_syntax_errors_give_line_and_column() {
    let e = Flow::parse("{\n  \"start\": \"a\",\n  \"blocks\": {,}\n}").unwrap_err();
    assert_eq!(e.errors, [FlowError::Json { line: 3, column: 14, message: "key must be a string".into() }]);
    assert_eq!(e.to_string(), "line 3, column 14: key must be a string");
    assert_eq!(e.errors[0].field(), None);
    let e = Flow::parse("{\"start\": ").unwrap_err();
    assert!(matches!(&e.errors[0], FlowError::Json { line: 1, column: 10, .. }), "{e}");
}

#[test]
fn shape_errors_name_the_block_and_are_all_reported() {
    let json = doc(
        r#""start": "a", "colour": "blue""#,
        r#""a": {"type": "message", "text": "hi", "nxt": "b"},
           "b": {"type": "teleport"},
           "c": {"type": "end", "text": 5},
           "menu": {"type": "buttons", "text": "?", "options": [{"label": "A", "next": "a"}, {"label": "B"}]},
           "kb": {"type": "knowledge", "query": "q", "min_score": "high", "found": "a", "not_found": "a"}"#,
    );
    let e = errors(&json);
    assert_eq!(e.len(), 6, "{e:#?}");
    assert_eq!(e[0], "colour: unknown field, expected one of version, start, handoff_phrases, handoff, blocks");
    assert!(e[1].starts_with("blocks.a: unknown field 'nxt', expected"), "{}", e[1]);
    assert!(e[2].starts_with("blocks.b: unknown variant 'teleport', expected one of 'message'"), "{}", e[2]);
    assert!(e[3].starts_with("blocks.c: invalid type: integer '5', expected a string"), "{}", e[3]);
    assert_eq!(e[4], "blocks.kb: invalid type: string \"high\", expected f64");
    assert_eq!(e[5], "blocks.menu.options[1]: missing field 'next'");
    assert_eq!(errors(r#"{"blocks": {}}"#), ["start: missing"]);
    assert_eq!(errors(r#"{"start": "a", "blocks": []}"#), ["blocks: must be an object of blocks by name"]);
    assert_eq!(errors(r#"{"start": 1, "blocks": {}}"#), ["start: invalid type: integer '1', expected a string"]);
}

#[test]
fn two_blocks_with_one_name_are_an_error() {
    let json = "{\"start\": \"a\", \"blocks\": {\n\"a\": {\"type\": \"end\"},\n\"a\": {\"type\": \"end\"}\n}}";
    let e = Flow::parse(json).unwrap_err();
    assert!(
        matches!(&e.errors[..], [FlowError::Json { line: 3, message, .. }] if message == "two blocks are named 'a'"),
        "{e:?}"
    );
}

#[test]
fn every_error_at_once() {
    let json = doc(
        r#""start": "menu", "handoff": "menu""#,
        r#""menu": {"type": "buttons", "text": "", "options": [{"label": "A", "key": "A", "next": "menu"}]},
           "lost": {"type": "message", "text": "?", "next": "menu"}"#,
    );
    assert_eq!(
        errors(&json),
        [
            "handoff: 'menu' is a buttons block, not a handoff block",
            "blocks.menu.text: must not be empty",
            "blocks.menu.options[0].key: must be a phone key: 0 to 9, * or #",
            "blocks.lost: unreachable from start",
            "start: no end or handoff block can be reached, so a conversation never finishes",
        ]
    );
}

#[test]
fn errors_expose_field_and_message() {
    let e = Flow::parse(&with_top("start", r#""x""#)).unwrap_err();
    assert_eq!(e.errors[0].field(), Some("start"));
    assert_eq!(e.errors[0].message(), "unknown block 'x'");
    let report = validate(&flow(FULL).definition().clone(), &[]);
    assert!(report.is_ok());
    assert_eq!(report.warnings.len(), 1);
}

#[test]
fn a_definition_round_trips_through_json() {
    let f = flow(FULL);
    let again = flow(&f.to_json());
    assert_eq!(f, again);
    assert_eq!(serde_json::to_value(&f).unwrap(), serde_json::to_value(f.definition()).unwrap());
    // Defaults are written out, so a stored flow says what it means.
    assert!(f.to_json().contains("\"version\": 1"));
}

/// The JSON blocks of the user documentation under `heading`.
fn documented_json(heading: &str) -> serde_json::Value {
    let docs = include_str!("../../../../../docs/FLOWS.md");
    let section = &docs[docs.find(heading).unwrap_or_else(|| panic!("no {heading}"))..];
    let start = section.find("```json\n").unwrap() + "```json\n".len();
    let end = start + section[start..].find("```").unwrap();
    serde_json::from_str(&section[start..end]).unwrap()
}

#[test]
fn the_documentation_shows_the_demo_flow_and_a_valid_first_flow() {
    let demo: serde_json::Value = serde_json::from_str(example()).unwrap();
    assert_eq!(documented_json("## The demo flow"), demo);
    assert!(warnings(&documented_json("## A first flow").to_string()).is_empty());
}

#[test]
fn digits_and_recordings_are_checked() {
    let json = r##"{"start": "a", "blocks": {
        "a": {"type": "message", "text": "Hi", "audio": " ", "next": "b"},
        "b": {"type": "input", "text": "Number?", "save_as": "n", "next": "c",
              "digits": {"min": 5, "max": 4, "terminator": "1", "timeout_seconds": 0, "retries": 10, "invalid": "nowhere"}},
        "c": {"type": "end"}}}"##;
    let errors: Vec<String> = Flow::parse(json).unwrap_err().errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        errors,
        [
            "blocks.a.audio: must name a recording (leave it out to speak the text)",
            "blocks.b.digits.max: must not be less than min (5)",
            "blocks.b.digits.terminator: '#', '*' or \"\" for none",
            "blocks.b.digits.timeout_seconds: between 1 and 60",
            "blocks.b.digits.retries: at most 9",
            "blocks.b.digits.invalid: unknown block 'nowhere'",
        ]
    );
}

#[test]
fn verify_blocks_name_what_is_wrong() {
    // Reached from the menu's "Billing", so it is no unreachable block.
    let with_verify = |block: &str| {
        let mut doc: serde_json::Value = serde_json::from_str(&with_block("check", block)).unwrap();
        doc["blocks"]["menu"]["options"][0]["next"] = "check".into();
        doc.to_string()
    };
    let good = r#"{"type": "verify", "text": "Your PIN?", "check": "pin", "verified": "route", "queue": "Security"}"#;
    let f = flow(&with_verify(good));
    assert!(matches!(f.block("check"), Some(Block::Verify(v)) if v.attempts == 3 && v.attribute().is_none()));
    // It works on a phone as it is: the answer is always keyed.
    let phone = doc(
        r#""start": "pin""#,
        r#""pin": {"type": "verify", "text": "Your PIN?", "check": "pin", "verified": "ok"}, "ok": {"type": "end"}"#,
    );
    assert!(validate::on_phone(flow(&phone).definition()).is_empty());
    let bad = r#"{"type": "verify", "text": " ", "check": "pin", "attribute": "pin", "date_order": "ymd",
                  "attempts": 6, "timeout_seconds": 0, "verified": "route", "failed": "nowhere", "queue": "S"}"#;
    assert_eq!(
        errors(&with_verify(bad)),
        [
            "blocks.check.text: must not be empty",
            "blocks.check.attempts: between 1 and 5",
            "blocks.check.timeout_seconds: between 1 and 60",
            "blocks.check.attribute: a PIN is kept apart from the attributes: leave it out",
            "blocks.check.date_order: only a date_of_birth check has one",
            "blocks.check.queue: either failed (a block) or queue (to escalate to), not both",
            "blocks.check.failed: unknown block 'nowhere'",
        ]
    );
    let unknown = r#"{"type": "verify", "text": "?", "check": "ssn", "verified": "route"}"#;
    assert!(Flow::parse(&with_verify(unknown)).unwrap_err().to_string().contains("ssn"));
}
