use super::*;

fn registry() -> SkillRegistry {
    let mut r = SkillRegistry::new();
    for s in ["billing", "spanish", "tier2", "trainee"] {
        r.intern(s);
    }
    r
}

fn agent(r: &SkillRegistry, id: u64, skills: &[(&str, u8)]) -> (AgentId, SkillTable) {
    let mut t = SkillTable::default();
    for (name, level) in skills {
        t.set(r.get(name).unwrap(), *level);
    }
    (AgentId(id), t)
}

fn check(src: &str, attrs: &[(&str, Value)], preferred: &[u64], id: u64, skills: &[(&str, u8)]) -> bool {
    let r = registry();
    let e = Expr::parse(src, &r).unwrap_or_else(|e| panic!("{}", e.caret(src)));
    let attributes: BTreeMap<String, Value> = attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let preferred: Vec<AgentId> = preferred.iter().map(|p| AgentId(*p)).collect();
    let facts =
        ContactFacts { attributes: &attributes, preferred_agents: &preferred, priority: 0, channel: Channel::Chat };
    let (aid, table) = agent(&r, id, skills);
    e.bind(&facts).matches(AgentFacts { id: aid, skills: &table })
}

#[test]
fn skill_levels_and_booleans() {
    assert!(check("billing >= 5 && spanish", &[], &[], 1, &[("billing", 7), ("spanish", 1)]));
    assert!(!check("billing >= 5 && spanish", &[], &[], 1, &[("billing", 4), ("spanish", 1)]));
    assert!(!check("billing >= 5 && spanish", &[], &[], 1, &[("billing", 9)]));
    assert!(check("agent.billing > 2 or tier2", &[], &[], 1, &[("tier2", 1)]));
    assert!(check("not trainee", &[], &[], 1, &[]));
    assert!(check("spanish == true", &[], &[], 1, &[("spanish", 1)]));
}

#[test]
fn contact_attributes_and_preferred_agents() {
    assert!(check("agent.id in contact.preferred_agents", &[], &[3, 7], 7, &[]));
    assert!(!check("agent.id in contact.preferred_agents", &[], &[3, 7], 8, &[]));
    let es = [("language", Value::from("es"))];
    assert!(check("contact.language == 'es' && spanish", &es, &[], 1, &[("spanish", 1)]));
    assert!(check("contact.language != 'es' || spanish", &es, &[], 1, &[("spanish", 1)]));
    assert!(!check("contact.language != 'es' || spanish", &es, &[], 1, &[]));
    // A missing attribute equals nothing and is unequal to nothing.
    assert!(!check("contact.missing == 'x'", &[], &[], 1, &[]));
    assert!(!check("contact.missing != 'x'", &[], &[], 1, &[]));
    assert!(check("agent.id in [1, 2, 3]", &[], &[], 2, &[]));
}

#[test]
fn binding_folds_contact_side_to_constants() {
    let r = registry();
    let e = Expr::parse("contact.vip == true || billing >= 8", &r).unwrap();
    let attrs: BTreeMap<String, Value> = [("vip".to_string(), Value::Bool(true))].into();
    let facts = ContactFacts { attributes: &attrs, preferred_agents: &[], priority: 0, channel: Channel::Voice };
    assert_eq!(e.bind(&facts).constant(), Some(true));
    let none = BTreeMap::new();
    let facts = ContactFacts { attributes: &none, ..facts };
    assert_eq!(e.bind(&facts).constant(), None);
    // Two contacts with equal attributes bind to the same predicate.
    let e2 = Expr::parse("contact.language == 'es' && spanish", &r).unwrap();
    let a: BTreeMap<String, Value> = [("language".to_string(), Value::from("es"))].into();
    let b = a.clone();
    let fa = ContactFacts { attributes: &a, ..facts };
    let fb = ContactFacts { attributes: &b, ..facts };
    assert_eq!(e2.bind(&fa), e2.bind(&fb));
}

#[test]
fn errors_point_at_the_column() {
    let r = registry();
    let err = Expr::parse("billing >= 5 && spansh", &r).unwrap_err();
    assert_eq!(err.column, 17);
    assert!(err.message.contains("unknown skill 'spansh'"), "{err}");
    let err = Expr::parse("billing >= ", &r).unwrap_err();
    assert_eq!(err.column, 12);
    let err = Expr::parse("billing = 5", &r).unwrap_err();
    assert_eq!(err.column, 9);
    let err = Expr::parse("(billing > 1", &r).unwrap_err();
    assert!(err.message.contains("')'"), "{err}");
    let err = Expr::parse("customer.x == 1", &r).unwrap_err();
    assert_eq!(err.column, 1);
    let err = Expr::parse("billing > 1 spanish", &r).unwrap_err();
    assert_eq!(err.column, 13);
    assert!(Expr::parse("", &r).is_err());
    assert!(Expr::parse("'open", &r).is_err());
    assert_eq!(
        Expr::parse("billing >= 5 && spansh", &r)
            .unwrap_err()
            .caret("billing >= 5 && spansh")
            .lines()
            .nth(1)
            .unwrap()
            .find('^'),
        Some(16)
    );
}
