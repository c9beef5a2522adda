use super::*;
use crate::attributes::Attributes;
use std::collections::BTreeMap;

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
    let facts = ContactFacts {
        attributes: &Attributes::from(attributes),
        preferred_agents: &preferred,
        priority: 0,
        channel: Channel::Chat,
    };
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
fn a_verified_caller_routes_by_contact_verified() {
    // A verify block sets `verified` true or false; absent, nothing was attempted.
    let yes = [("verified", Value::Bool(true))];
    let no = [("verified", Value::Bool(false))];
    assert!(check("contact.verified", &yes, &[], 1, &[]));
    assert!(!check("contact.verified", &no, &[], 1, &[]));
    assert!(!check("contact.verified", &[], &[], 1, &[]));
    assert!(check("!contact.verified && tier2", &[], &[], 1, &[("tier2", 1)]));
    assert!(check("contact.verified == false || billing", &no, &[], 1, &[]));
}

#[test]
fn binding_folds_contact_side_to_constants() {
    let r = registry();
    let e = Expr::parse("contact.vip == true || billing >= 8", &r).unwrap();
    let attrs: BTreeMap<String, Value> = [("vip".to_string(), Value::Bool(true))].into();
    let facts = ContactFacts {
        attributes: &Attributes::from(attrs),
        preferred_agents: &[],
        priority: 0,
        channel: Channel::Voice,
    };
    assert_eq!(e.bind(&facts).constant(), Some(true));
    let none = BTreeMap::new();
    let facts = ContactFacts { attributes: &Attributes::from(none), ..facts };
    assert_eq!(e.bind(&facts).constant(), None);
    // Two contacts with equal attributes bind to the same predicate.
    let e2 = Expr::parse("contact.language == 'es' && spanish", &r).unwrap();
    let a: BTreeMap<String, Value> = [("language".to_string(), Value::from("es"))].into();
    let b = a.clone();
    let fa = ContactFacts { attributes: &Attributes::from(a), ..facts };
    let fb = ContactFacts { attributes: &Attributes::from(b), ..facts };
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

/// Runs `f` on a thread with a small stack: what passes here passes with room
/// to spare on a tokio worker's 2 MiB.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().unwrap();
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    on_small_stack(|| {
        let r = registry();
        let parens = format!("{}billing{}", "(".repeat(2500), ")".repeat(2500));
        let err = Expr::parse(&parens, &r).unwrap_err();
        assert_eq!(err.column, MAX_NESTING + 1);
        assert!(err.message.contains("nested too deeply"), "{err}");
        let nots = format!("{}billing", "!".repeat(100_000));
        let err = Expr::parse(&nots, &r).unwrap_err();
        assert_eq!((err.column, err.to_string().contains("nested too deeply")), (MAX_NESTING + 1, true));
        let lists = format!("agent.id in {}1{}", "[".repeat(1000), "]".repeat(1000));
        assert!(Expr::parse(&lists, &r).unwrap_err().message.contains("nested too deeply"));
        assert!(Expr::parse(&format!("{}trainee", "not ".repeat(5000)), &r).is_err());
    });
}

#[test]
fn deepest_allowed_expressions_bind_and_evaluate_on_a_small_stack() {
    on_small_stack(|| {
        let r = registry();
        let (aid, table) = agent(&r, 1, &[("billing", 5)]);
        let attrs: BTreeMap<String, Value> = [("vip".to_string(), Value::Bool(true))].into();
        let facts = ContactFacts {
            attributes: &Attributes::from(attrs.clone()),
            preferred_agents: &[],
            priority: 0,
            channel: Channel::Chat,
        };
        let deepest = [
            format!("{}billing >= 5 && contact.vip{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING)),
            format!("{}billing", "!".repeat(MAX_NESTING)),
            format!("!{}(billing || contact.vip){}", "!(".repeat(MAX_NESTING / 2 - 1), ")".repeat(MAX_NESTING / 2 - 1)),
        ];
        for src in &deepest {
            let e = Expr::parse(src, &r).unwrap_or_else(|e| panic!("{}", e.caret(src)));
            let p = e.bind(&facts);
            let _ = p.matches(AgentFacts { id: aid, skills: &table });
            assert_eq!(p.clone(), p);
            let _ = (e.skills(), e.reads_contact(), e.to_string());
        }
        // Long chains are balanced, so they cost log2(n) levels, not n.
        let chain = vec!["billing > 1"; 100_000].join(" || ");
        let e = Expr::parse(&chain, &r).unwrap();
        assert!(e.bind(&facts).matches(AgentFacts { id: aid, skills: &table }));
        let chain = vec!["contact.vip"; 100_000].join(" && ") + " && billing > 6";
        assert!(!Expr::parse(&chain, &r).unwrap().bind(&facts).matches(AgentFacts { id: aid, skills: &table }));
    });
}

#[test]
fn chains_evaluate_as_written() {
    // Balancing must not change the meaning of mixed chains.
    assert!(check("trainee || spanish || billing > 2 && tier2", &[], &[], 1, &[("billing", 3), ("tier2", 1)]));
    assert!(!check("trainee || spanish && billing > 2 || tier2", &[], &[], 1, &[("spanish", 1)]));
    assert!(check("billing > 1 && billing > 2 && billing > 3 && !trainee", &[], &[], 1, &[("billing", 4)]));
}

#[test]
fn literals_must_fit_what_they_are_compared_with() {
    let r = registry();
    let at = |src: &str| Expr::parse(src, &r).map_err(|e| (e.column, e.message));
    let (column, message) = at("billing >= 11").unwrap_err();
    assert_eq!(column, 12);
    assert!(message.contains("skill levels run from 1 to 10"), "{message}");
    assert_eq!(at("billing >= 1e20").unwrap_err().0, 12);
    assert_eq!(at("billing >= -1").unwrap_err().0, 12);
    assert_eq!(at("11 <= agent.billing").unwrap_err().0, 1);
    let (column, message) = at("billing == 'x'").unwrap_err();
    assert_eq!((column, message.as_str()), (12, "a skill level is a number, not a string"));
    let (column, message) = at("contact.x in 5").unwrap_err();
    assert_eq!((column, message.as_str()), (14, "'in' needs a list or a string on its right, not a number"));
    assert!(at("agent.id in billing").is_err());
    assert!(at("'x' in agent.id").is_err());
    assert!(at("1e999 == contact.x").unwrap_err().1.contains("too large"));
    // What is meaningful stays allowed.
    for ok in [
        "billing >= 10",
        "billing == 0",
        "billing > 2.5",
        "spanish == true",
        "contact.x in contact.y",
        "contact.lang in 'en,fr'",
        "agent.id in [1, 2]",
        "contact.score >= 1e3",
        "contact.x == 'x'",
        "billing >= contact.level",
    ] {
        assert!(at(ok).is_ok(), "{ok}: {:?}", at(ok));
    }
}

#[test]
fn saved_expressions_load_without_literal_checks_but_with_nesting_limits() {
    let r = registry();
    assert!(Expr::parse("billing >= 11", &r).is_err());
    let e = Expr::parse_saved("billing >= 11 || contact.x in 5", &r).unwrap();
    assert!(
        !e.bind(&ContactFacts {
            attributes: &Attributes::new(),
            preferred_agents: &[],
            priority: 0,
            channel: Channel::Chat
        })
        .matches(AgentFacts { id: AgentId(1), skills: &agent(&r, 1, &[("billing", 10)]).1 })
    );
    let deep = format!("{}billing{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
    assert!(Expr::parse_saved(&deep, &r).unwrap_err().message.contains("nested too deeply"));
}
