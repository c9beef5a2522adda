use super::*;
use crate::channel::Channel;
use crate::expr::Value;
use crate::ids::QueueId;
use serde_json::json;

fn rule(v: serde_json::Value) -> Rule {
    serde_json::from_value(v).unwrap()
}

fn facts() -> Facts {
    let mut f = Facts::new(Channel::Chat);
    f.queue = Some(QueueId(3));
    f.text = Some("I want a REFUND now".into());
    f.tags = vec!["late payer".into()];
    f.attributes.insert("tier".into(), Value::Str("Gold".into()));
    f.attributes.insert("orders".into(), Value::Num(12.0));
    f.subject = Some("Order 1042: wrong size".into());
    f.customer_attributes.insert("vip".into(), Value::Bool(true));
    f
}

#[test]
fn conditions_read_every_field() {
    let f = facts();
    let holds = |field: &str, op: &str, value: serde_json::Value| {
        let c: Condition = serde_json::from_value(json!({ "field": field, "op": op, "value": value })).unwrap();
        c.holds(&f)
    };
    assert!(holds("channel", "equals", json!("chat")));
    assert!(holds("channel", "in", json!(["email", "chat"])));
    assert!(holds("queue", "equals", json!(3)));
    assert!(holds("text", "contains", json!("refund")), "without regard to case");
    assert!(holds("text", "starts_with", json!("i want")));
    assert!(holds("tags", "contains", json!("Late Payer")));
    assert!(holds("attribute.tier", "equals", json!("gold")));
    assert!(holds("attribute.orders", "greater_than", json!(10)));
    assert!(holds("subject", "contains", json!("wrong SIZE")));
    assert!(holds("customer.vip", "equals", json!(true)));
    assert!(!holds("customer.tier", "equals", json!("Gold")), "the contact's attributes are not the customer's");
    assert!(!holds("attribute.orders", "less_than", json!(10)));
    assert!(holds("attribute.missing", "absent", json!(null)));
    assert!(holds("attribute.missing", "not_equals", json!("x")), "absent equals nothing");
    assert!(!holds("attribute.missing", "equals", json!("x")));
    assert!(!holds("rating", "present", json!(null)));
    assert!(holds("priority", "equals", json!(0)));
}

#[test]
fn rules_fire_in_order_and_see_earlier_effects() {
    let rules = vec![
        rule(json!({ "name": "gold", "event": "message_received",
            "conditions": [{ "field": "text", "op": "contains", "value": "refund" }],
            "actions": [{ "type": "set_attribute", "name": "topic", "value": "refund" }] })),
        rule(json!({ "name": "off", "enabled": false, "event": "message_received",
            "actions": [{ "type": "add_tag", "tag": "never" }] })),
        rule(json!({ "name": "refunds first", "event": "message_received", "match": "any",
            "conditions": [{ "field": "attribute.topic", "op": "equals", "value": "refund" },
                           { "field": "priority", "op": "greater_than", "value": 100 }],
            "actions": [{ "type": "set_priority", "priority": 5 }, { "type": "transfer", "queue": 9 }] })),
        rule(json!({ "name": "other event", "event": "contact_ended",
            "actions": [{ "type": "add_tag", "tag": "x" }] })),
    ];
    for r in &rules {
        r.validate().unwrap();
    }
    let mut f = facts();
    let fired = evaluate(&rules, Trigger::MessageReceived, &mut f, 0);
    assert_eq!(fired.iter().map(|x| x.index).collect::<Vec<_>>(), vec![0, 2]);
    assert_eq!((f.priority, f.queue), (5, Some(QueueId(9))));
    assert!(evaluate(&rules, Trigger::MessageReceived, &mut facts(), MAX_DEPTH).is_empty(), "too deep");
    let why = explain(&rules[2], Trigger::MessageReceived, &facts());
    assert_eq!(why, Explained { event: true, conditions: vec![false, false], would_fire: false });
}

#[test]
fn bad_rules_name_their_field() {
    let field = |v: serde_json::Value| rule(v).validate().unwrap_err().field;
    let base = |conditions: serde_json::Value, actions: serde_json::Value| json!({ "name": "r", "event": "contact_created", "conditions": conditions, "actions": actions });
    let tag = json!([{ "type": "add_tag", "tag": "t" }]);
    assert_eq!(field(base(json!([]), json!([]))), "actions");
    assert_eq!(
        field(base(json!([{ "field": "channel", "op": "equals", "value": "fax" }]), tag.clone())),
        "conditions[0].value"
    );
    assert_eq!(
        field(base(json!([{ "field": "tags", "op": "greater_than", "value": 1 }]), tag.clone())),
        "conditions[0].op"
    );
    assert_eq!(field(base(json!([{ "field": "rating", "op": "present" }]), tag.clone())), "conditions[0].field");
    assert_eq!(
        field(base(json!([{ "field": "queue", "op": "in", "value": [1, "x"] }]), tag.clone())),
        "conditions[0].value[1]"
    );
    assert_eq!(field(base(json!([]), json!([{ "type": "set_priority", "priority": 5000 }]))), "actions[0].priority");
    assert_eq!(field(base(json!([]), json!([{ "type": "add_tag", "tag": "a\nb" }]))), "actions[0].tag");
    assert_eq!(field(json!({ "name": "r", "event": "contact_created", "match": "any", "actions": tag })), "conditions");
    let unknown =
        serde_json::from_value::<Rule>(base(json!([{ "field": "colour", "op": "equals", "value": 1 }]), json!([])));
    assert!(unknown.unwrap_err().to_string().contains("not a field"));
}
