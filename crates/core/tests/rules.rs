//! Property tests of the automation rules' condition language.

use proptest::prelude::*;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value;
use switchboard_core::ids::QueueId;
use switchboard_core::rules::{Action, Condition, Facts, Field, Match, Op, Rule, Trigger, evaluate};

fn word() -> impl Strategy<Value = String> {
    prop_oneof![Just("refund".to_string()), Just("Refund".to_string()), Just("gold".to_string()), "[a-zA-Z ]{0,8}"]
}

fn value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i32..20).prop_map(|n| Value::Num(f64::from(n))),
        word().prop_map(Value::Str),
    ];
    prop_oneof![4 => scalar.clone(), 1 => prop::collection::vec(scalar, 0..4).prop_map(Value::List)]
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        Just(Field::Channel),
        Just(Field::Queue),
        Just(Field::Priority),
        Just(Field::Text),
        Just(Field::Subject),
        Just(Field::Tags),
        Just(Field::Rating),
        prop_oneof![Just("tier"), Just("vip"), Just("orders")].prop_map(|n| Field::Attribute(n.into())),
        prop_oneof![Just("vip"), Just("plan")].prop_map(|n| Field::CustomerAttribute(n.into())),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    (field(), prop::sample::select(Op::ALL.to_vec()), value()).prop_map(|(field, op, value)| Condition {
        field,
        op,
        value,
    })
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        prop::sample::select(Channel::ALL.to_vec()),
        prop::option::of(1u64..5),
        -5i32..20,
        (prop::option::of(word()), prop::option::of(word())),
        prop::collection::vec(word(), 0..3),
        prop::collection::btree_map(
            prop_oneof![Just("tier".to_string()), Just("vip".to_string()), Just("orders".to_string())],
            value(),
            0..3,
        ),
        prop::collection::btree_map(prop_oneof![Just("vip".to_string()), Just("plan".to_string())], value(), 0..2),
        prop::option::of(1u8..=5),
    )
        .prop_map(|(channel, queue, priority, (text, subject), tags, attributes, customer_attributes, rating)| {
            Facts {
                channel,
                queue: queue.map(QueueId),
                priority,
                text,
                subject,
                tags,
                attributes,
                customer_attributes,
                rating,
            }
        })
}

fn rule(matching: Match, conditions: Vec<Condition>) -> Rule {
    Rule {
        name: "r".into(),
        enabled: true,
        event: Trigger::MessageReceived,
        matching,
        conditions,
        actions: vec![Action::AddTag { tag: "fired".into() }],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// An operator and its negation always disagree, whatever the field,
    /// value and facts — absent fields included.
    #[test]
    fn negations_disagree(c in condition(), f in facts()) {
        if let Some(neg) = c.op.negation() {
            let n = Condition { op: neg, ..c.clone() };
            prop_assert_ne!(c.holds(&f), n.holds(&f));
        }
    }

    /// `all` is the conjunction and `any` the disjunction of the conditions.
    #[test]
    fn all_and_any_combine_single_conditions(cs in prop::collection::vec(condition(), 0..6), f in facts()) {
        let singles: Vec<bool> = cs.iter().map(|c| c.holds(&f)).collect();
        prop_assert_eq!(rule(Match::All, cs.clone()).matches(&f), singles.iter().all(|x| *x));
        prop_assert_eq!(rule(Match::Any, cs).matches(&f), singles.iter().any(|x| *x));
    }

    /// Text compares without regard to case.
    #[test]
    fn text_ignores_case(text in "[a-zA-Z ]{1,12}", f in facts()) {
        let f = Facts { text: Some(text.clone()), ..f };
        for op in [Op::Equals, Op::Contains, Op::StartsWith] {
            let lower = Condition { field: Field::Text, op, value: Value::Str(text.to_lowercase()) };
            let upper = Condition { field: Field::Text, op, value: Value::Str(text.to_uppercase()) };
            prop_assert!(lower.holds(&f) && upper.holds(&f));
        }
    }

    /// A rule survives its JSON unchanged, and valid ones still validate.
    #[test]
    fn rules_round_trip_through_json(cs in prop::collection::vec(condition(), 0..4), f in facts()) {
        let r = rule(Match::All, cs);
        let back: Rule = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        prop_assert_eq!(back.matches(&f), r.matches(&f));
        prop_assert_eq!(back.validate().is_ok(), r.validate().is_ok());
    }

    /// Only enabled rules of the event fire, in order, each once; below the
    /// depth bound evaluation does not depend on the depth.
    #[test]
    fn evaluation_fires_enabled_rules_of_the_event_in_order(
        specs in prop::collection::vec((any::<bool>(), any::<bool>(), prop::collection::vec(condition(), 0..3)), 0..8),
        f in facts(),
    ) {
        let rules: Vec<Rule> = specs.into_iter().map(|(enabled, other_event, cs)| Rule {
            enabled,
            event: if other_event { Trigger::ContactEnded } else { Trigger::MessageReceived },
            ..rule(Match::All, cs)
        }).collect();
        let fired = evaluate(&rules, Trigger::MessageReceived, &mut f.clone(), 0);
        let again = evaluate(&rules, Trigger::MessageReceived, &mut f.clone(), 2);
        prop_assert_eq!(&fired, &again);
        let indexes: Vec<usize> = fired.iter().map(|x| x.index).collect();
        prop_assert!(indexes.windows(2).all(|w| w[0] < w[1]));
        for i in indexes {
            prop_assert!(rules[i].enabled && rules[i].event == Trigger::MessageReceived);
        }
    }
}
