//! `/hooks/{endpoint}` and the channels a server is started with, end to
//! end over HTTP on SQLite and PostgreSQL: a test SMS channel takes its
//! provider's webhook (checking a signature of its own), opens a
//! conversation through the seam, and the server's delivery loop sends the
//! agent's answer through it.

use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::channel::Channel;
use switchboard_server::Options;
use switchboard_server::service::conversation::DeliveryOptions;
use switchboard_server::service::kinds::Kind;
use switchboard_store::{ContactFilter, Store};

mod common;
use common::*;
#[path = "../../service/tests/support/sms.rs"]
mod sms;
use sms::{SIGNATURE, TestSms};

async fn hooks_reach_the_channel_and_replies_go_out(store: Store) {
    let sms = Arc::new(TestSms::default());
    let options = Options {
        channels: vec![sms.clone()],
        channel_delivery: DeliveryOptions { attempts: 2, first_retry: Duration::from_millis(10) },
        ..Options::default()
    };
    let (app, service) = App::start_with(store, options).await;
    let (p, queue) = support::workspace(&service, &["sms"]).await;
    let ws = p.workspace;
    let number = support::sms_endpoint(&service, &p, "+15550100", queue).await;
    let input = json!({ "channel": "sms", "name": "Old", "address": "+15550199", "queue": queue, "enabled": false });
    let off = service.create_endpoint(&p, serde_json::from_value(input).unwrap()).await.unwrap().id;
    let chat = service.chat_settings(ws).await.unwrap().endpoint;

    let post = |id: String, signed: bool, form: &'static str| {
        let mut req = app
            .http
            .post(format!("{}/hooks/{id}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        if signed {
            req = req.header(SIGNATURE.0, SIGNATURE.1);
        }
        req.send()
    };
    let form = "from=%2B15550123&text=hello&id=SM1";

    // The channel checks its provider's signature; there is no auth header.
    let unsigned = post(number.0.to_string(), false, form).await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let resp = post(number.0.to_string(), true, form).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/xml");
    assert_eq!(resp.text().await.unwrap(), "<Response/>");
    // The provider's retry of the same message changes nothing.
    assert_eq!(post(number.0.to_string(), true, form).await.unwrap().status(), StatusCode::OK);
    let contacts = service.store().contacts(ws, &ContactFilter::default(), None, 10).await.unwrap();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!((contacts[0].channel, contacts[0].queue), (Channel::Sms, Some(queue)));
    let messages = service.messages(&p, contacts[0].id).await.unwrap().messages;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], "hello");

    // What the server answers before any channel does.
    assert_eq!(post("999999".into(), true, form).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(post("not-a-number".into(), true, form).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(post(off.0.to_string(), true, form).await.unwrap().status(), StatusCode::GONE);
    assert_eq!(post(chat.0.to_string(), true, form).await.unwrap().status(), StatusCode::METHOD_NOT_ALLOWED);
    let get = app.http.get(format!("{}/hooks/{}", app.base, number.0)).send().await.unwrap();
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
