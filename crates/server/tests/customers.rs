//! Customers end to end over HTTP, on SQLite and on PostgreSQL: identities,
//! search and lookup, contacts attached by identity, the timeline across
//! channels with notes, merging, and isolation between workspaces.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_store::Store;

mod common;

use common::*;

fn ids(list: &Value) -> Vec<u64> {
    list.as_array().unwrap_or_else(|| panic!("not a list: {list}")).iter().map(|c| c["id"].as_u64().unwrap()).collect()
}

fn kinds_of(timeline: &Value, contact: u64) -> Vec<String> {
    timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["contact"] == contact)
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn customers_over_the_api(store: Store) {
    let (app, service) = App::start(store).await;
    service.create_workspace("Acme", admin("admin@acme.example")).await.unwrap();
    let boss = app.login("admin@acme.example", "admin-password").await;
    let alice_user = app
        .ok(
            "POST",
            "/api/v1/users",
            &boss,
            json!({ "email": "alice@acme.example", "name": "Alice", "role": "agent", "password": "alice-password" }),
        )
        .await;
    let alice_id = alice_user["id"].as_u64().unwrap();
    let alice = app.login("alice@acme.example", "alice-password").await;

    // ----- create, with identities normalised ----------------------------
    let (status, ada) = app
        .call(
            "POST",
            "/api/v1/customers",
            Some(&boss),
            Some(json!({
                "name": " Ada Lovelace ",
                "tags": ["vip", " vip "],
                "attributes": { "tier": "gold" },
                "identities": [
                    { "kind": "email", "value": "  Ada@Example.COM " },
                    { "kind": "phone", "value": "+44 (20) 7946-0018" }
                ]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ada}");
    let ada_id = ada["id"].as_u64().unwrap();
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(ada["tags"], json!(["vip"]));
    assert_eq!(ada["attributes"]["tier"], "gold");
    let ada_identities = json!([
        { "kind": "email", "value": "ada@example.com" },
        { "kind": "phone", "value": "+442079460018" }
    ]);
    assert_eq!(ada["identities"], ada_identities);
    let (status, read) = app.call("GET", &format!("/api/v1/customers/{ada_id}"), Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, ada);

    // Bad input names the field; nothing is created.
    for (body, field) in [
        (
            json!({ "name": "X", "identities": [
                { "kind": "email", "value": "x@example.com" },
                { "kind": "phone", "value": "020 7946 0018" }
            ] }),
            "identities[1].value",
        ),
        (json!({ "name": "X", "identities": [{ "kind": "email", "value": "not-an-address" }] }), "identities[0].value"),
        (json!({ "name": "X", "identities": [{ "kind": "phone", "value": "+12 34" }] }), "identities[0].value"),
        (json!({ "name": "  " }), "name"),
        (json!({ "name": "X", "tags": ["ok", ""] }), "tags[1]"),
    ] {
        let (status, v) = app.call("POST", "/api/v1/customers", Some(&boss), Some(body.clone())).await;
        assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{body}: {v}");
    }
    let (status, fax) = app
        .call(
            "POST",
            "/api/v1/customers",
            Some(&boss),
            Some(json!({ "name": "X", "identities": [{ "kind": "fax", "value": "1" }] })),
        )
        .await;
    assert_eq!((status, fax["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("identities[0].kind")));
    let (_, none) = app.call("GET", "/api/v1/customers?q=x%40example", Some(&boss), None).await;
    assert_eq!(ids(&none["customers"]), Vec::<u64>::new());

    // An identity belongs to one customer of the workspace.
    let (status, v) = app
        .call(
            "POST",
            "/api/v1/customers",
            Some(&boss),
            Some(json!({ "name": "Imposter", "identities": [{ "kind": "email", "value": "ADA@example.com" }] })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("ada@example.com"), "{v}");

    let bob = app
        .ok(
            "POST",
            "/api/v1/customers",
            &boss,
            json!({ "name": "Bob Byron", "tags": ["late payer"], "attributes": { "tier": "bronze", "lang": "en" },
                    "identities": [{ "kind": "phone", "value": "+1 555.010.0199" }] }),
        )
        .await;
    let bob_id = bob["id"].as_u64().unwrap();
    assert_eq!(bob["identities"], json!([{ "kind": "phone", "value": "+15550100199" }]));

    // ----- search and lookup ---------------------------------------------
    for (q, expect) in [
        ("ada", vec![ada_id]),
        ("LOVELACE", vec![ada_id]),
        ("EXAMPLE.COM", vec![ada_id]),
        ("7946", vec![ada_id]),
        ("5550100", vec![bob_id]),
        ("by", vec![bob_id]),
        ("nobody", vec![]),
    ] {
        let (status, v) = app.call("GET", &format!("/api/v1/customers?q={q}"), Some(&alice), None).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(ids(&v["customers"]), expect, "q={q}: {v}");
    }
    let (_, all) = app.call("GET", "/api/v1/customers", Some(&boss), None).await;
    assert_eq!(ids(&all["customers"]), vec![ada_id, bob_id]);
    let (_, v) = app.call("GET", "/api/v1/customers?q=a&limit=1", Some(&boss), None).await;
    assert_eq!(ids(&v["customers"]), vec![ada_id]);

    for (query, expect) in [
        ("email=%20ADA@Example.com", vec![ada_id]),
        ("phone=%2B44%2020%207946%200018", vec![ada_id]),
        // An unencoded '+' arrives as a space; it is taken for the '+'.
        ("phone=+15550100199", vec![bob_id]),
        ("phone=%2B999999999", vec![]),
        ("email=nobody@example.com", vec![]),
    ] {
        let (status, v) = app.call("GET", &format!("/api/v1/customers?{query}"), Some(&alice), None).await;
        assert_eq!(status, StatusCode::OK, "{query}: {v}");
        assert_eq!(ids(&v["customers"]), expect, "{query}: {v}");
    }
    for (query, field) in
        [("phone=abc", "phone"), ("email=nope", "email"), ("phone=%2B15550100199&email=a@b.c", "email")]
    {
        let (status, v) = app.call("GET", &format!("/api/v1/customers?{query}"), Some(&boss), None).await;
        assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{query}: {v}");
    }
    let (status, _) = app.call("GET", "/api/v1/customers?colour=red", Some(&boss), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Agents read customers but do not change them.
    let (status, _) = app.call("GET", &format!("/api/v1/customers/{ada_id}"), Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.call("POST", "/api/v1/customers", Some(&alice), Some(json!({ "name": "Eve" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        app.call("PUT", &format!("/api/v1/customers/{ada_id}"), Some(&alice), Some(json!({ "name": "Eve" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // ----- contacts attach to customers by identity -----------------------
    app.ok("POST", "/api/v1/skills", &boss, json!({ "name": "billing" })).await;
    let policy = app
        .ok("POST", "/api/v1/policies", &boss, json!({ "name": "Billing", "steps": [{ "expr": "billing >= 1" }] }))
        .await;
    let queue = app
        .ok("POST", "/api/v1/queues", &boss, json!({ "name": "Billing", "channels": ["api"], "policy": policy["id"] }))
        .await;
    app.ok(
        "PUT",
        &format!("/api/v1/agents/{alice_id}"),
        &boss,
        json!({ "skills": { "billing": 5 }, "capacity": { "api": 3 }, "queues": [{ "queue": queue["id"] }] }),
    )
    .await;
    app.ok("POST", &format!("/api/v1/agents/{alice_id}/state"), &alice, json!({ "state": "available" })).await;

    let first = app
        .ok(
            "POST",
            "/api/v1/contacts",
            &boss,
            json!({ "queue": queue["id"], "customer_identity": { "kind": "email", "value": " ADA@example.COM" } }),
        )
        .await;
    let first_id = first["id"].as_u64().unwrap();
    assert_eq!(first["customer"], ada_id, "{first}");
    assert_eq!(first["state"], "offered", "{first}");
    app.ok("POST", &format!("/api/v1/contacts/{first_id}/accept"), &alice, json!({})).await;
    app.ok("POST", &format!("/api/v1/contacts/{first_id}/complete"), &alice, json!({ "disposition": "resolved" }))
        .await;

    // An identity nobody has yet makes a customer of it.
    let stranger_contact = app
        .ok(
            "POST",
            "/api/v1/contacts",
            &boss,
            json!({ "queue": queue["id"], "customer_identity": { "kind": "phone", "value": "+49 30 1234567" } }),
        )
        .await;
    let stranger_id = stranger_contact["customer"].as_u64().unwrap();
    assert!(![ada_id, bob_id].contains(&stranger_id), "{stranger_contact}");
    let stranger = app.get(&format!("/api/v1/customers/{stranger_id}"), &alice).await;
    assert_eq!(stranger["name"], "+49301234567");
    assert_eq!(stranger["identities"], json!([{ "kind": "phone", "value": "+49301234567" }]));
    let again = app
        .ok(
            "POST",
            "/api/v1/contacts",
            &boss,
            json!({ "queue": queue["id"], "customer_identity": { "kind": "phone", "value": "+49-30-1234567" } }),
        )
        .await;
    assert_eq!(again["customer"], stranger_id, "{again}");
    for contact in [&stranger_contact, &again] {
        app.ok("POST", &format!("/api/v1/contacts/{}/cancel", contact["id"]), &boss, json!({})).await;
    }
    for (body, field) in [
        (
            json!({ "queue": queue["id"], "customer": ada_id, "customer_identity": { "kind": "email", "value": "a@b.c" } }),
            "customer_identity",
        ),
        (
            json!({ "queue": queue["id"], "customer_identity": { "kind": "phone", "value": "12" } }),
            "customer_identity.value",
        ),
        (json!({ "queue": queue["id"], "customer": 9999 }), "customer"),
    ] {
        let (status, v) = app.call("POST", "/api/v1/contacts", Some(&boss), Some(body.clone())).await;
        assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{body}: {v}");
    }

    // ----- the timeline, with notes ---------------------------------------
    let (status, note) = app
        .call(
            "POST",
            &format!("/api/v1/customers/{ada_id}/notes"),
            Some(&alice),
            Some(json!({ "text": " Prefers email. " })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!(note["kind"], "customer_note");
    assert_eq!(note["payload"]["text"], "Prefers email.");
    assert_eq!(note["payload"]["author"], alice_id);
    let (status, v) =
        app.call("POST", &format!("/api/v1/customers/{ada_id}/notes"), Some(&alice), Some(json!({ "text": "" }))).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("text")));

    let timeline = app.get(&format!("/api/v1/customers/{ada_id}/timeline"), &alice).await;
    assert_eq!(timeline["customer"], ada_id);
    let kinds = kinds_of(&timeline, first_id);
    for kind in ["contact_queued", "offer_created", "offer_accepted", "contact_ended"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
    }
    let events = timeline["events"].as_array().unwrap();
    assert!(events.windows(2).all(|w| w[0]["id"].as_u64() < w[1]["id"].as_u64()), "oldest first");
    assert!(events.iter().filter(|e| e["contact"] == first_id).all(|e| e["channel"] == "api"), "{timeline}");
    let last = events.last().unwrap();
    assert_eq!((last["kind"].as_str(), last["id"].as_u64()), (Some("customer_note"), note["id"].as_u64()));
    assert!(last.get("channel").is_none(), "{last}");
    assert!(events.iter().all(|e| e["contact"] != stranger_contact["id"]), "another customer's contact");

    // ----- merge ----------------------------------------------------------
    let bobs_contact =
        app.ok("POST", "/api/v1/contacts", &boss, json!({ "queue": queue["id"], "customer": bob_id })).await;
    let bobs_contact_id = bobs_contact["id"].as_u64().unwrap();
    assert_eq!(bobs_contact["state"], "offered", "{bobs_contact}");
    app.ok("POST", &format!("/api/v1/customers/{bob_id}/notes"), &boss, json!({ "text": "Called about an invoice" }))
        .await;

    let (status, _) = app
        .call("POST", &format!("/api/v1/customers/{ada_id}/merge"), Some(&alice), Some(json!({ "from": bob_id })))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let merged = app.ok("POST", &format!("/api/v1/customers/{ada_id}/merge"), &boss, json!({ "from": bob_id })).await;
    assert_eq!(merged["id"], ada_id);
    assert_eq!(
        merged["identities"],
        json!([
            { "kind": "email", "value": "ada@example.com" },
            { "kind": "phone", "value": "+15550100199" },
            { "kind": "phone", "value": "+442079460018" }
        ])
    );
    assert_eq!(merged["tags"], json!(["vip", "late payer"]));
    assert_eq!(merged["attributes"], json!({ "tier": "gold", "lang": "en" }));

    // The merged id reads as the survivor, everywhere.
    let as_bob = app.get(&format!("/api/v1/customers/{bob_id}"), &alice).await;
    assert_eq!(as_bob, merged);
    let (_, v) = app.call("GET", "/api/v1/customers?phone=%2B15550100199", Some(&boss), None).await;
    assert_eq!(ids(&v["customers"]), vec![ada_id]);
    let (_, v) = app.call("GET", "/api/v1/customers?q=byron", Some(&boss), None).await;
    assert_eq!(ids(&v["customers"]), Vec::<u64>::new(), "merged customers are not listed");
    let (_, v) = app.call("GET", &format!("/api/v1/contacts?customer={ada_id}"), Some(&boss), None).await;
    let contacts = ids(&v["contacts"]);
    assert!(contacts.contains(&first_id) && contacts.contains(&bobs_contact_id), "{v}");
    let (_, v) = app.call("GET", &format!("/api/v1/contacts?customer={bob_id}"), Some(&boss), None).await;
    assert_eq!(ids(&v["contacts"]), Vec::<u64>::new());

    // The moved contact was live: its later events name the survivor.
    app.ok("POST", &format!("/api/v1/contacts/{bobs_contact_id}/accept"), &alice, json!({})).await;
    app.ok("POST", &format!("/api/v1/contacts/{bobs_contact_id}/complete"), &alice, json!({})).await;
    let done = app.get(&format!("/api/v1/contacts/{bobs_contact_id}"), &boss).await;
    assert_eq!((done["customer"].as_u64(), done["state"].as_str()), (Some(ada_id), Some("completed")), "{done}");

    let timeline = app.get(&format!("/api/v1/customers/{bob_id}/timeline"), &alice).await;
    assert_eq!(timeline["customer"], ada_id);
    let events = timeline["events"].as_array().unwrap();
    let kinds = kinds_of(&timeline, bobs_contact_id);
    for kind in ["contact_queued", "offer_created", "offer_accepted", "contact_ended"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
    }
    assert!(kinds_of(&timeline, first_id).len() >= 4);
    let merge_event = events.iter().find(|e| e["kind"] == "customer_merged").expect("customer_merged");
    assert_eq!(
        (merge_event["payload"]["from"].as_u64(), merge_event["payload"]["into"].as_u64()),
        (Some(bob_id), Some(ada_id))
    );
    let notes: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "customer_note")
        .map(|e| e["payload"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(notes, ["Prefers email.", "Called about an invoice"]);
    assert!(events.windows(2).all(|w| w[0]["id"].as_u64() < w[1]["id"].as_u64()), "oldest first");

    for (into, from, status, field) in [
        (ada_id, bob_id, StatusCode::CONFLICT, None),
        (bob_id, ada_id, StatusCode::CONFLICT, None),
        (ada_id, ada_id, StatusCode::BAD_REQUEST, Some("from")),
        (ada_id, 9999, StatusCode::BAD_REQUEST, Some("from")),
        (9999, ada_id, StatusCode::NOT_FOUND, None),
    ] {
        let (got, v) = app
            .call("POST", &format!("/api/v1/customers/{into}/merge"), Some(&boss), Some(json!({ "from": from })))
            .await;
        assert_eq!((got, v["error"]["field"].as_str()), (status, field), "merge {from} into {into}: {v}");
    }

    // ----- update and identities ------------------------------------------
    let updated = app
        .ok("PUT", &format!("/api/v1/customers/{bob_id}"), &boss, json!({ "name": "Ada King", "tags": ["patron"] }))
        .await;
    assert_eq!((updated["id"].as_u64(), updated["name"].as_str()), (Some(ada_id), Some("Ada King")));
    assert_eq!(updated["tags"], json!(["patron"]));
    assert_eq!(updated["attributes"]["tier"], "gold", "attributes not given stay");
    let (status, v) =
        app.call("PUT", &format!("/api/v1/customers/{ada_id}"), Some(&boss), Some(json!({ "name": "" }))).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("name")));
    let (status, _) = app.call("PUT", "/api/v1/customers/9999", Some(&boss), Some(json!({ "name": "X" }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, v) = app
        .call(
            "POST",
            &format!("/api/v1/customers/{ada_id}/identities"),
            Some(&boss),
            Some(json!({ "kind": "visitor", "value": " v-42 " })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert!(v["identities"].as_array().unwrap().contains(&json!({ "kind": "visitor", "value": "v-42" })), "{v}");
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/customers/{ada_id}/identities"),
            Some(&boss),
            Some(json!({ "kind": "email", "value": "Ada@example.com" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "a customer's own identity again is no conflict");
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/customers/{stranger_id}/identities"),
            Some(&boss),
            Some(json!({ "kind": "email", "value": "ada@example.com" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, v) = app
        .call(
            "POST",
            &format!("/api/v1/customers/{ada_id}/identities"),
            Some(&boss),
            Some(json!({ "kind": "phone", "value": "call me" })),
        )
        .await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("value")));
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/customers/9999/identities",
            Some(&boss),
            Some(json!({ "kind": "visitor", "value": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // ----- another workspace sees and changes none of it ------------------
    let ada_now = app.get(&format!("/api/v1/customers/{ada_id}"), &boss).await;
    service.create_workspace("Other", admin("admin@other.example")).await.unwrap();
    let other = app.login("admin@other.example", "admin-password").await;
    let (status, theirs) = app
        .call(
            "POST",
            "/api/v1/customers",
            Some(&other),
            Some(json!({ "name": "Ada elsewhere", "identities": [{ "kind": "email", "value": "ada@example.com" }] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "identities are per workspace: {theirs}");
    let theirs_id = theirs["id"].as_u64().unwrap();
    for id in [ada_id, bob_id] {
        for (method, path, body) in [
            ("GET", format!("/api/v1/customers/{id}"), None),
            ("PUT", format!("/api/v1/customers/{id}"), Some(json!({ "name": "Mine" }))),
            ("POST", format!("/api/v1/customers/{id}/identities"), Some(json!({ "kind": "visitor", "value": "v-9" }))),
            ("POST", format!("/api/v1/customers/{id}/notes"), Some(json!({ "text": "hello" }))),
            ("POST", format!("/api/v1/customers/{id}/merge"), Some(json!({ "from": theirs_id }))),
            ("GET", format!("/api/v1/customers/{id}/timeline"), None),
        ] {
            let (status, v) = app.call(method, &path, Some(&other), body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {v}");
        }
    }
    let (status, v) = app
        .call("POST", &format!("/api/v1/customers/{theirs_id}/merge"), Some(&other), Some(json!({ "from": ada_id })))
        .await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("from")));
    let (status, v) = app
        .call("POST", "/api/v1/contacts", Some(&other), Some(json!({ "queue": queue["id"], "customer": ada_id })))
        .await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("customer")));
    for query in ["q=ada", "q=7946", "email=ada@example.com", "phone=%2B15550100199", ""] {
        let (_, v) = app.call("GET", &format!("/api/v1/customers?{query}"), Some(&other), None).await;
        let found = ids(&v["customers"]);
        assert!(found.iter().all(|id| *id == theirs_id), "{query}: {v}");
    }
    let (_, timeline) = app.call("GET", &format!("/api/v1/customers/{theirs_id}/timeline"), Some(&other), None).await;
    assert_eq!(timeline["events"], json!([]));
    assert_eq!(app.get(&format!("/api/v1/customers/{ada_id}"), &boss).await, ada_now);

    app.running.stop().await;
}

#[tokio::test]
async fn customers_on_sqlite() {
    customers_over_the_api(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test]
async fn customers_on_postgres() {
    customers_over_the_api(Store::open(&postgres_url().await).await.unwrap()).await;
}
