//! The chat channel end to end, on SQLite and on PostgreSQL: the demo
//! workspace's widget, the bot answering from the knowledge base, a
//! hand-off to an agent, messages both ways over two WebSockets, an
//! attachment, ending, wrap-up with a disposition, the rating, and the
//! day's statistics; then the self-service configuration's bad input.

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_server::demo;
use switchboard_store::Store;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

mod common;

use common::*;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket with helpers to wait for a frame.
struct Ws(Socket);

impl Ws {
    async fn open(app: &App, path: &str, token: Option<&str>) -> Ws {
        let mut request = format!("ws://{}{path}", app.running.addr).into_client_request().unwrap();
        if let Some(t) = token {
            request.headers_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        Ws(tokio_tungstenite::connect_async(request).await.unwrap().0)
    }

    async fn send(&mut self, v: Value) {
        self.0.send(Message::Text(v.to_string().into())).await.unwrap();
    }

    /// The next frame for which `pick` holds (others are skipped).
    async fn until(&mut self, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
        let found = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(msg) = self.0.next().await {
                let msg = msg.unwrap();
                let Ok(text) = msg.to_text() else { continue };
                let Ok(v) = serde_json::from_str::<Value>(text) else { continue };
                if pick(&v) {
                    return v;
                }
            }
            panic!("socket closed waiting for {what}");
        })
        .await;
        found.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    }

    /// Every frame that arrives within `quiet` of the previous one.
    async fn drain(&mut self, quiet: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(quiet, self.0.next()).await {
            if let Ok(v) = serde_json::from_str::<Value>(msg.to_text().unwrap_or("")) {
                out.push(v);
            }
        }
        out
    }
}

fn bot_text(v: &Value, needle: &str) -> bool {
    v["type"] == "message" && v["from"] == "bot" && v["text"].as_str().unwrap_or("").contains(needle)
}

async fn chat_end_to_end(store: Store) {
    let (app, service) = App::start(store).await;
    demo::ensure(&service, None).await.unwrap();
    let admin = app.login(demo::ADMIN_EMAIL, demo::PASSWORD).await;
    let key = app.get("/api/v1/chat/settings", &admin).await["widget_key"].as_str().unwrap().to_string();
    let config = app.get(&format!("/chat/{key}/config"), "").await;
    assert_eq!(
        (config["open"].clone(), config["bot"].clone()),
        (json!(false), json!(true)),
        "nobody is logged in: {config}"
    );
    let (status, _) = app.call("GET", "/chat/no-such-key/config", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // 1. The bot answers a knowledge-base question typed at its menu, as the
    // README tells (nobody is on shift: the bot runs all the same): contained.
    let (status, a) = app.call("POST", &format!("/chat/{key}/sessions"), None, Some(json!({ "name": "Cara" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let mut cara = Ws::open(&app, &format!("/chat/{key}/ws?session={}", a["session"].as_str().unwrap()), None).await;
    cara.until("the menu", |v| v["buttons"].as_array().is_some_and(|b| !b.is_empty())).await;
    cara.send(json!({ "type": "message", "text": "How long does a refund take?", "client_id": "m1" })).await;
    cara.until("the article", |v| bot_text(v, "5 business days")).await;
    cara.send(json!({ "type": "button", "value": "yes" })).await;
    cara.until("anything else", |v| bot_text(v, "anything else")).await;
    cara.send(json!({ "type": "button", "value": "no" })).await;
    cara.until("the end", |v| v["type"] == "status" && v["state"] == "ended").await;

    // 2. An agent comes online; a second customer asks for a person.
    let alice = app.login("alice@demo.example", demo::PASSWORD).await;
    let me = app.get("/api/v1/me", &alice).await;
    let alice_id = me["user"]["id"].as_u64().unwrap();
    // From now: the demo's log holds weeks of generated history before this.
    let mut desk = Ws::open(&app, "/api/v1/events?after=now", Some(&alice)).await;
    app.ok("POST", &format!("/api/v1/agents/{alice_id}/state"), &alice, json!({ "state": "available" })).await;
    assert_eq!(app.get(&format!("/chat/{key}/config"), "").await["open"], true);
    let (_, b) = app
        .call(
            "POST",
            &format!("/chat/{key}/sessions"),
            None,
            Some(json!({ "name": "Dan", "email": "Dan@Example.com" })),
        )
        .await;
    let session = b["session"].as_str().unwrap().to_string();
    let contact = b["contact"].as_u64().unwrap();
    let mut dan = Ws::open(&app, &format!("/chat/{key}/ws?session={session}"), None).await;
    dan.until("the menu", |v| v["buttons"].is_array()).await;
    dan.send(json!({ "type": "message", "text": "I want to talk to a person please", "client_id": "d1" })).await;
    let offer = desk.until("the offer", |v| v["kind"] == "offer_created").await;
    assert_eq!(offer["contact"], contact);
    app.ok("POST", &format!("/api/v1/contacts/{contact}/accept"), &alice, json!({})).await;
    let connected = dan.until("connected", |v| v["type"] == "status" && v["state"] == "connected").await;
    assert_eq!(connected["agent"], "Alice");

    // Messages both ways, typing and read marks.
    app.ok("POST", &format!("/api/v1/contacts/{contact}/typing"), &alice, json!({ "on": true })).await;
    dan.until("typing", |v| v["type"] == "typing" && v["on"] == true).await;
    let sent =
        app.ok("POST", &format!("/api/v1/contacts/{contact}/messages"), &alice, json!({ "text": "Hi Dan!" })).await;
    let got = dan.until("the agent's message", |v| v["type"] == "message" && v["from"] == "agent").await;
    assert_eq!((got["text"].clone(), got["id"].clone()), (json!("Hi Dan!"), sent["id"].clone()));
    dan.send(json!({ "type": "read", "upto": got["id"] })).await;
    desk.until("the read mark", |v| v["kind"] == "read" && v["payload"]["upto"] == got["id"]).await;
    dan.send(json!({ "type": "message", "text": "My order 1234 is late", "client_id": "d2" })).await;
    desk.until("the customer's message", |v| v["kind"] == "message" && v["payload"]["client_id"] == "d2").await;
    // A resend after a reconnect is not a second message.
    dan.send(json!({ "type": "message", "text": "My order 1234 is late", "client_id": "d2" })).await;

    // An attachment from the customer, fetched by the agent.
    let upload = |body: Vec<u8>, kind: &'static str| {
        app.http
            .post(format!("{}/chat/{key}/attachments?session={session}", app.base))
            .header("content-type", kind)
            .header("x-filename", "receipt.txt")
            .body(body)
            .send()
    };
    let resp = upload(b"order 1234".to_vec(), "text/plain").await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let file: Value = resp.json().await.unwrap();
    assert_eq!(upload(b"<html>".to_vec(), "text/html").await.unwrap().status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = vec![0u8; 5 * 1024 * 1024 + 1];
    assert_eq!(upload(big, "image/png").await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
    dan.send(json!({ "type": "attachment", "id": file["id"], "client_id": "d3" })).await;
    let with_file = desk.until("the attachment", |v| v["kind"] == "message" && v["payload"]["client_id"] == "d3").await;
    assert_eq!(with_file["payload"]["attachment"]["name"], "receipt.txt");
    let bytes = app
        .http
        .get(format!("{}/api/v1/attachments/{}", app.base, file["id"]))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"order 1234");

    let thread = app.get(&format!("/api/v1/contacts/{contact}/messages"), &alice).await;
    let texts: Vec<&str> = thread["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts.iter().filter(|t| **t == "My order 1234 is late").count(), 1, "{texts:?}");
    assert!(texts.contains(&"Hi Dan!"), "{texts:?}");

    // Reconnecting with the last id seen resumes after it.
    let last = got["id"].as_u64().unwrap();
    let mut again = Ws::open(&app, &format!("/chat/{key}/ws?session={session}&after={last}"), None).await;
    let replay = again.drain(Duration::from_millis(500)).await;
    let ids: Vec<u64> = replay.iter().filter(|v| v["type"] == "message").map(|v| v["id"].as_u64().unwrap()).collect();
    assert!(!ids.is_empty() && ids.iter().all(|i| *i > last), "{replay:?}");

    // The agent ends the chat, the customer is asked to rate, the agent wraps up.
    app.ok("POST", &format!("/api/v1/contacts/{contact}/end"), &alice, json!({})).await;
    dan.until("the rating request", |v| v["type"] == "csat").await;
    let (status, v) = app
        .call(
            "POST",
            &format!("/api/v1/contacts/{contact}/complete"),
            Some(&alice),
            Some(json!({ "disposition": "made_up" })),
        )
        .await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("disposition")));
    app.ok(
        "POST",
        &format!("/api/v1/contacts/{contact}/complete"),
        &alice,
        json!({ "disposition": "resolved", "notes": "late order, tracking sent" }),
    )
    .await;
    dan.send(json!({ "type": "csat", "score": 5, "comment": "quick!" })).await;
    desk.until("the rating", |v| v["kind"] == "csat").await;
    dan.send(json!({ "type": "csat", "score": 1 })).await;
    dan.until("a second rating refused", |v| v["type"] == "error").await;

    // The day's figures.
    let queues = app.get("/api/v1/stats/queues", &admin).await;
    let support = queues["queues"].as_array().unwrap().iter().find(|q| q["name"] == "Support").unwrap().clone();
    assert_eq!((support["handled"].clone(), support["offered"].clone()), (json!(1), json!(1)), "{support}");
    let agents = app.get("/api/v1/stats/agents", &admin).await;
    let a = agents["agents"].as_array().unwrap().iter().find(|a| a["agent"] == alice_id).unwrap().clone();
    assert_eq!(a["handled_today"], 1, "{a}");
    let csat = app.get("/api/v1/stats/csat", &admin).await;
    assert_eq!((csat["agents"][0]["name"].clone(), csat["agents"][0]["average"].clone()), (json!("Alice"), json!(5.0)));
    let intervals = app.get("/api/v1/stats/intervals?minutes=60", &admin).await;
    let contained: u64 =
        intervals["intervals"].as_array().unwrap().iter().map(|i| i["contained"].as_u64().unwrap()).sum();
    assert_eq!(contained, 1, "{intervals}");
    let (status, _) = app.call("GET", "/api/v1/stats/intervals?minutes=7", Some(&admin), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The customer's timeline has the conversation.
    let customer = b["customer"].as_u64().unwrap();
    let timeline = app.get(&format!("/api/v1/customers/{customer}/timeline"), &admin).await;
    let kinds: Vec<&str> = timeline["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"message") && kinds.contains(&"csat") && kinds.contains(&"bot_handoff"), "{kinds:?}");

    // A customer who closes the page while waiting has left, after a grace period.
    service.chat().presence.set_grace(Duration::from_millis(200));
    let (_, gone) = app.call("POST", &format!("/chat/{key}/sessions"), None, Some(json!({ "name": "Gus" }))).await;
    let gone_id = gone["contact"].as_u64().unwrap();
    let mut gus = Ws::open(&app, &format!("/chat/{key}/ws?session={}", gone["session"].as_str().unwrap()), None).await;
    gus.send(json!({ "type": "message", "text": "a person please", "client_id": "g1" })).await;
    let waiting = gus.until("waiting", |v| v["type"] == "status" && v["state"] == "waiting").await;
    assert_eq!(waiting["staffed"], true, "{waiting}");
    drop(gus);
    let abandoned = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let c = app.get(&format!("/api/v1/contacts/{gone_id}"), &admin).await;
            if c["state"] == "abandoned" {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(abandoned.is_ok(), "a customer gone from the queue stays queued");

    // A message left while nobody is there.
    app.ok("POST", &format!("/api/v1/agents/{alice_id}/state"), &alice, json!({ "state": "offline" })).await;
    let (status, left) = app
        .call(
            "POST",
            &format!("/chat/{key}/messages"),
            None,
            Some(json!({ "name": "Eve", "email": "eve@example.com", "text": "Call me back" })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{left}");
    let waiting = app.get(&format!("/api/v1/contacts/{}", left["contact"]), &admin).await;
    assert_eq!(waiting["state"], "queued", "{waiting}");

    // Nobody on shift: the bot still runs, and its hand-off says so; the
    // conversation in line becomes the message left.
    let (_, h) = app.call("POST", &format!("/chat/{key}/sessions"), None, Some(json!({ "name": "Hal" }))).await;
    let hal_id = h["contact"].as_u64().unwrap();
    let mut hal = Ws::open(&app, &format!("/chat/{key}/ws?session={}", h["session"].as_str().unwrap()), None).await;
    hal.until("the menu", |v| v["buttons"].is_array()).await;
    hal.send(json!({ "type": "message", "text": "I'd like to talk to a person", "client_id": "h1" })).await;
    let waiting = hal.until("waiting", |v| v["type"] == "status" && v["state"] == "waiting").await;
    assert_eq!((waiting["staffed"].clone(), waiting["position"].clone()), (json!(false), json!(2)), "{waiting}");
    let (status, left) = app
        .call(
            "POST",
            &format!("/chat/{key}/messages"),
            None,
            Some(json!({ "name": "Hal", "email": "hal@example.com", "text": "Call me", "session": h["session"] })),
        )
        .await;
    assert_eq!((status, left["contact"].as_u64()), (StatusCode::ACCEPTED, Some(hal_id)), "{left}");
    drop(hal);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let kept = app.get(&format!("/api/v1/contacts/{hal_id}"), &admin).await;
    assert_eq!((kept["state"].clone(), kept["attributes"]["left_message"].clone()), (json!("queued"), json!(true)));
}

async fn self_service_configuration(store: Store) {
    let (app, service) = App::start(store).await;
    demo::ensure(&service, None).await.unwrap();
    let admin = app.login(demo::ADMIN_EMAIL, demo::PASSWORD).await;
    let alice = app.login("alice@demo.example", demo::PASSWORD).await;

    // Documents: listed for everyone, written by admins, unique codes.
    let dispositions = app.get("/api/v1/dispositions", &alice).await;
    assert_eq!(dispositions["dispositions"].as_array().unwrap().len(), 4);
    let (status, _) =
        app.call("POST", "/api/v1/dispositions", Some(&alice), Some(json!({ "code": "x", "label": "X" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call("POST", "/api/v1/dispositions", Some(&admin), Some(json!({ "code": "RESOLVED", "label": "Again" })))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, v) = app
        .call("POST", "/api/v1/dispositions", Some(&admin), Some(json!({ "code": "no spaces", "label": "X" })))
        .await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("code")));
    let canned = app
        .ok(
            "POST",
            "/api/v1/canned-responses",
            &admin,
            json!({ "shortcut": "/Thanks", "title": "Thanks", "text": "Thank you!" }),
        )
        .await;
    assert_eq!(canned["shortcut"], "thanks");
    app.ok(
        "PUT",
        &format!("/api/v1/canned-responses/{}", canned["id"]),
        &admin,
        json!({ "shortcut": "thanks", "title": "Thanks", "text": "Many thanks!" }),
    )
    .await;
    let (status, _) =
        app.call("DELETE", &format!("/api/v1/canned-responses/{}", canned["id"]), Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/canned-responses", &alice).await["canned_responses"].as_array().unwrap().len(), 3);

    // Business hours: a queue refers to them; one in use cannot go.
    let hours = app
        .ok(
            "POST",
            "/api/v1/business-hours",
            &admin,
            json!({ "name": "Office", "calendar": { "time_zone": "Europe/Berlin", "weekly": { "mon": ["09:00-17:00"] } } }),
        )
        .await;
    let queues = app.get("/api/v1/queues", &admin).await;
    let support = queues["queues"].as_array().unwrap().iter().find(|q| q["name"] == "Support").unwrap().clone();
    // The queue API takes the settings beside the name.
    let mut update = support["settings"].clone();
    update["business_hours"] = hours["id"].clone();
    update["name"] = json!("Support");
    let (status, v) = app.call("PUT", &format!("/api/v1/queues/{}", support["id"]), Some(&admin), Some(update)).await;
    assert!(status.is_success(), "{status} {v}");
    let (status, _) = app.call("DELETE", &format!("/api/v1/business-hours/{}", hours["id"]), Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Flows: errors name the block; saving makes a new version.
    let flows = app.get("/api/v1/flows", &admin).await;
    let flow = flows["flows"][0].clone();
    let mut broken = flow["definition"].clone();
    broken["blocks"]["menu"]["options"][1]["next"] = json!("nowhere");
    let (status, v) = app
        .call("PUT", &format!("/api/v1/flows/{}", flow["id"]), Some(&admin), Some(json!({ "definition": broken })))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "definition.blocks.menu.options[1].next", "{v}");
    let saved = app
        .ok("PUT", &format!("/api/v1/flows/{}", flow["id"]), &admin, json!({ "definition": flow["definition"] }))
        .await;
    assert_eq!((saved["version"].clone(), saved["history"].as_array().unwrap().len()), (json!(2), 1));

    // The same flow in YAML: fetched, edited by hand, saved back; errors as in JSON.
    let url = format!("{}/api/v1/flows/{}", app.base, flow["id"]);
    let yaml = |req: reqwest::RequestBuilder| req.bearer_auth(&admin).header("content-type", "application/yaml");
    let fetched = app.http.get(&url).bearer_auth(&admin).header("accept", "application/yaml").send().await.unwrap();
    assert_eq!(fetched.headers()["content-type"], "application/yaml");
    let text = fetched.text().await.unwrap();
    assert!(text.contains("definition:") && text.contains("blocks:"), "{text}");
    let renamed = text.replacen("name: ", "name: Renamed ", 1);
    let saved: Value = yaml(app.http.put(&url)).body(renamed).send().await.unwrap().json().await.unwrap();
    assert_eq!(saved["version"], 3, "{saved}");
    assert!(saved["name"].as_str().unwrap().starts_with("Renamed "), "{saved}");
    assert_eq!(saved["definition"], flow["definition"]);
    let wrong = "definition:\n  start: menu\n  blocks:\n    menu: {type: message, text: Hi, next: nowhere}\n";
    let resp = yaml(app.http.put(&url)).body(wrong).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["field"], "definition.blocks.menu.next", "{v}");
    let resp = yaml(app.http.put(&url)).body("definition: [unclosed\n").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_yaml", "{v}");

    // The knowledge base: search for staff, the help center for everyone.
    let hits = app.get("/api/v1/kb/search?q=refunds", &alice).await;
    assert_eq!(hits["hits"][0]["title"], "How do refunds work?", "{hits}");
    let draft = app
        .ok(
            "POST",
            "/api/v1/kb/articles",
            &admin,
            json!({ "title": "Secret refunds policy", "body": "internal refunds draft", "published": false }),
        )
        .await;
    let key = app.get("/api/v1/chat/settings", &admin).await["widget_key"].as_str().unwrap().to_string();
    let public = app.get(&format!("/help/{key}/search?q=refunds"), "").await;
    assert!(public["hits"].as_array().unwrap().iter().all(|h| h["id"] != draft["id"]), "{public}");
    let (status, _) = app.call("GET", &format!("/help/{key}/articles/{}", draft["id"]), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let page = app.http.get(format!("{}/help/{key}", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    // Pre-chat fields are checked; chat settings reject unknown queues.
    let (status, v) =
        app.call("POST", &format!("/chat/{key}/sessions"), None, Some(json!({ "email": "not-an-email" }))).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("email")));
    let (status, v) =
        app.call("POST", &format!("/chat/{key}/sessions"), None, Some(json!({ "fields": { "x": "1" } }))).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("fields.x")));
    let forged = format!("ws://{}/chat/{key}/ws?session=1.{}", app.running.addr, "0".repeat(32));
    match tokio_tungstenite::connect_async(forged).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), StatusCode::UNAUTHORIZED),
        other => panic!("a forged session opened a socket: {:?}", other.map(|_| ())),
    }
    let (status, v) = app.call("PUT", "/api/v1/chat/settings", Some(&admin), Some(json!({ "queue": 999 }))).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("queue")));

    // The widget's endpoints answer other sites' pages (CORS), preflight included.
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/chat/{key}/sessions", app.base))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let config = app.http.get(format!("{}/chat/{key}/config", app.base)).send().await.unwrap();
    assert_eq!(config.headers()["access-control-allow-origin"], "*");

    // One address may start only so many conversations.
    // (Attempts above count too: the allowance runs out within this many.)
    service.chat().starts.set(5);
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(app.call("POST", &format!("/chat/{key}/sessions"), None, Some(json!({}))).await.0);
    }
    assert_eq!(answers.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{answers:?}");
    service.chat().starts.set(0);

    // Identities can be removed.
    let c = app
        .ok("POST", "/api/v1/customers", &admin, json!({ "name": "Fay", "identities": [{ "kind": "email", "value": "fay@example.com" }, { "kind": "phone", "value": "+49 30 1234567" }] }))
        .await;
    let after = app
        .ok(
            "DELETE",
            &format!("/api/v1/customers/{}/identities?kind=phone&value=%2B49301234567", c["id"]),
            &admin,
            Value::Null,
        )
        .await;
    assert_eq!(after["identities"].as_array().unwrap().len(), 1, "{after}");
}

#[tokio::test]
async fn chat_end_to_end_on_sqlite() {
    chat_end_to_end(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test]
async fn chat_end_to_end_on_postgres() {
    chat_end_to_end(Store::open(&postgres_url().await).await.unwrap()).await;
}

#[tokio::test]
async fn self_service_configuration_on_sqlite() {
    self_service_configuration(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test]
async fn self_service_configuration_on_postgres() {
    self_service_configuration(Store::open(&postgres_url().await).await.unwrap()).await;
}
