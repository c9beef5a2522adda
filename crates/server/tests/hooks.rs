//! `/hooks/{endpoint}` and the channels a server is started with, end to
//! end over HTTP on SQLite and PostgreSQL: a test SMS channel takes its
//! provider's webhook (checking a signature of its own), opens a
//! conversation through the seam, and the server's delivery loop sends the
//! agent's answer through it.

use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::channel::Channel;
use switchboard_server::Options;
use switchboard_server::auth::Principal;
use switchboard_server::service::conversation::{
    BoxFuture, Capabilities, ChannelAdapter, DeliveryOptions, HookRequest, HookResponse, Inbound, IncomingMessage,
    Outbound, SendError, Sender, Sent, Thread,
};
use switchboard_server::service::endpoints::Endpoint;
use switchboard_server::service::kinds::Kind;
use switchboard_server::service::{IdentityValue, Service};
use switchboard_store::{ContactFilter, IdentityKind, Role, Store};

mod common;
use common::*;

/// An SMS provider that posts `from`, `text` and `id` as a form, signed
/// with a header, and takes every message sent.
#[derive(Default)]
struct TestSms {
    sent: Mutex<Vec<Outbound>>,
}

impl ChannelAdapter for TestSms {
    fn kind(&self) -> Channel {
        Channel::Sms
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::plain_text(1600)
    }

    fn send(&self, message: Outbound) -> BoxFuture<'_, Result<Sent, SendError>> {
        Box::pin(async move {
            self.sent.lock().unwrap().push(message);
            Ok(Sent { provider_id: Some("test-1".into()) })
        })
    }

    fn hook<'a>(
        &'a self,
        service: &'a Service,
        endpoint: &'a Endpoint,
        request: HookRequest,
    ) -> BoxFuture<'a, HookResponse> {
        Box::pin(async move {
            if request.method != "POST" {
                return HookResponse::status(405);
            }
            if request.header("x-test-signature") != Some("good") {
                return HookResponse::status(401);
            }
            let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
            let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
            let inbound = Inbound {
                sender: Sender {
                    identity: Some(IdentityValue { kind: IdentityKind::Phone, value: field("from") }),
                    name: None,
                },
                message: Some(IncomingMessage {
                    text: field("text"),
                    client_id: Some(field("id")),
                    ..Default::default()
                }),
                ..Default::default()
            };
            match service.inbound(endpoint.id, Thread::Key(field("from")), inbound).await {
                Ok(_) => HookResponse {
                    status: 200,
                    headers: vec![("content-type".into(), "text/xml".into())],
                    body: b"<Response/>".to_vec(),
                },
                Err(_) => HookResponse::status(500),
            }
        })
    }
}

async fn endpoint(service: &Service, p: &Principal, body: serde_json::Value) -> Endpoint {
    service.create_endpoint(p, serde_json::from_value(body).unwrap()).await.unwrap()
}

async fn hooks_reach_the_channel_and_replies_go_out(store: Store) {
    let sms = Arc::new(TestSms::default());
    let options = Options {
        channels: vec![sms.clone()],
        channel_delivery: DeliveryOptions { attempts: 2, first_retry: Duration::from_millis(10) },
        ..Options::default()
    };
    let (app, service) = App::start_with(store, options).await;
    let (ws, user) =
        service.create_workspace("Hooks", admin(&format!("a{}@example.com", rand_suffix()))).await.unwrap();
    let p = Principal { workspace: ws.id, user: user.id, role: Role::Admin };
    let policy = service
        .put_policy(&p, None, "Anyone", vec![serde_json::from_value(json!({ "expr": "true" })).unwrap()])
        .await
        .unwrap();
    let settings = serde_json::from_value(json!({ "channels": ["sms"], "policy": policy.id })).unwrap();
    let queue = service.put_queue(&p, None, "Texts", settings).await.unwrap().id;
    let number =
        endpoint(&service, &p, json!({ "channel": "sms", "name": "Main", "address": "+15550100", "queue": queue }))
            .await;
    let off = endpoint(
        &service,
        &p,
        json!({ "channel": "sms", "name": "Old", "address": "+15550199", "queue": queue, "enabled": false }),
    )
    .await;
    let chat = service.chat_settings(ws.id).await.unwrap().endpoint;

    let post = |id: String, signed: bool, form: &'static str| {
        let mut req = app
            .http
            .post(format!("{}/hooks/{id}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        if signed {
            req = req.header("x-test-signature", "good");
        }
        req.send()
    };
    let form = "from=%2B15550123&text=hello&id=SM1";

    // The channel checks its provider's signature; there is no auth header.
    let unsigned = post(number.id.0.to_string(), false, form).await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let resp = post(number.id.0.to_string(), true, form).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/xml");
    assert_eq!(resp.text().await.unwrap(), "<Response/>");
    // The provider's retry of the same message changes nothing.
    assert_eq!(post(number.id.0.to_string(), true, form).await.unwrap().status(), StatusCode::OK);
    let contacts = service.store().contacts(ws.id, &ContactFilter::default(), None, 10).await.unwrap();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!((contacts[0].channel, contacts[0].queue), (Channel::Sms, Some(queue)));
    let messages = service.messages(&p, contacts[0].id).await.unwrap().messages;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], "hello");

    // What the server answers before any channel does.
    assert_eq!(post("999999".into(), true, form).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(post("not-a-number".into(), true, form).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(post(off.id.0.to_string(), true, form).await.unwrap().status(), StatusCode::GONE);
    assert_eq!(post(chat.0.to_string(), true, form).await.unwrap().status(), StatusCode::METHOD_NOT_ALLOWED);
    let get = app.http.get(format!("{}/hooks/{}", app.base, number.id.0)).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED, "the channel answers GET itself");

    // The server started the channel's delivery loop: the agent's answer goes out.
    let mut events = service.subscribe();
    let reply = service.send_message(&p, contacts[0].id, "Hi there", None).await.unwrap();
    let id = reply["id"].as_u64().unwrap();
    loop {
        let e = events.recv().await.unwrap();
        if e.kind == Kind::Delivery && e.payload["message"] == id {
            assert_eq!(e.payload["state"], "sent");
            break;
        }
    }
    let sent = sms.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].body.text.as_str(), sent[0].thread.as_deref()), ("Hi there", Some("+15550123")));
    app.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_on_sqlite() {
    hooks_reach_the_channel_and_replies_go_out(Store::open(&sqlite_url()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_on_postgres() {
    hooks_reach_the_channel_and_replies_go_out(Store::open(&postgres_url().await).await.unwrap()).await;
}
