//! `switchboard demo`: a workspace to play with — skills, routing policies,
//! queues, agents with passwords, dispositions, canned responses, a
//! knowledge base, a bot flow and a chat widget — created once per data directory.

use crate::auth::Principal;
use crate::chat::ChatSettingsUpdate;
use crate::documents::{CannedResponse, Disposition, KbCategory};
use crate::flows::FlowUpdate;
use crate::kb::ArticleBody;
use crate::settings::QueueSettings;
use crate::sip_accounts::SipAccountUpdate;
use crate::{AgentSpec, NewToken, NewUser, Service, ServiceError};
use serde_json::json;
use std::collections::BTreeMap;
use switchboard_core::agent::{Capacity, Membership};
use switchboard_core::channel::Channel;
use switchboard_core::ids::QueueId;
use switchboard_core::policy::StepSpec;
use switchboard_core::skills::Proficiency;
use switchboard_store::Role;

/// Every demo user's password. It is a demo: say so on the console.
pub const PASSWORD: &str = "switchboard-demo";
pub const ADMIN_EMAIL: &str = "admin@demo.example";
/// The Support queue's mailbox.
pub const SUPPORT_EMAIL: &str = "support@demo.example";
/// The demo's phone number (a voice endpoint with an IVR flow); dial 15550001000.
pub const SUPPORT_NUMBER: &str = "+15550001000";
/// Alice's SIP phone: she answers the Billing queue's calls on it.
pub const ALICE_SIP_USER: &str = "alice";
pub const ALICE_SIP_PASSWORD: &str = "switchboard-demo-phone";
/// The demo number's trunk: courtesy callbacks are dialled to this loopback port, where
/// anything answering SIP (`sipp -sn uas`) stands for the customer's phone.
pub const DEMO_TRUNK_PORT: u16 = 5070;
/// The key a caller waiting in the Billing queue presses to be called back.
pub const CALLBACK_KEY: &str = "1";

pub struct Demo {
    pub admin: Principal,
    /// The admin API token printed for the user: the one it was given
    /// before if that still works, else a new one.
    pub token: String,
    pub agents: Vec<(String, String)>,
}

/// Seeds the demo workspace unless the store already has one, then returns
/// its admin and an API token. `known` is the token printed by an earlier
/// start: it is reused while it still belongs to the demo's admin, so that
/// restarts do not pile up permanent admin tokens.
pub async fn ensure(service: &Service, known: Option<&str>) -> Result<Demo, ServiceError> {
    ensure_with_history(service, known, crate::demo_history::DAYS).await
}

/// [`ensure`], with `history_days` of generated past contacts written when
/// the workspace is made (the benchmark of reports asks for a year).
pub async fn ensure_with_history(
    service: &Service,
    known: Option<&str>,
    history_days: i64,
) -> Result<Demo, ServiceError> {
    let (admin, fresh) = match service.store().user_by_email(ADMIN_EMAIL).await? {
        Some(u) => (Principal { workspace: u.workspace, user: u.id, role: u.role }, false),
        None => (seed(service).await?, true),
    };
    support_mailbox(service, &admin).await?;
    support_line(service, &admin).await?;
    alice_phone(service, &admin).await?;
    // After the endpoints, which the history's conversations name.
    if fresh {
        crate::demo_history::seed(service, &admin, history_days).await?;
    }
    let reusable = match known {
        Some(token) => service.authenticate(token).await.ok().filter(|p| *p == admin).map(|_| token.to_string()),
        None => None,
    };
    let token = match reusable {
        Some(token) => token,
        None => {
            let console = NewToken { name: "demo console".into(), expires_in_days: None, expires_at: None };
            service.create_api_token(&admin, console).await?.0
        }
    };
    let agents = service
        .store()
        .users(admin.workspace)
        .await?
        .into_iter()
        .filter(|u| u.role != Role::Admin)
        .map(|u| (u.email, u.role.as_str().to_string()))
        .collect();
    Ok(Demo { admin, token, agents })
}

/// The Support queue's email endpoint, added to demo workspaces made
/// before email was.
async fn support_mailbox(service: &Service, admin: &Principal) -> Result<(), ServiceError> {
    if service.endpoint_at(Channel::Email, SUPPORT_EMAIL).await?.is_some() {
        return Ok(());
    }
    let Some(support) = service.store().queues(admin.workspace).await?.into_iter().find(|q| q.name == "Support") else {
        return Ok(());
    };
    let input = serde_json::from_value(json!({
        "channel": "email",
        "name": "Acme Outdoor support",
        "address": SUPPORT_EMAIL,
        "queue": support.id,
        "settings": { "signature": "The Acme Outdoor support team\nacme-outdoor.example" },
    }))
    .expect("the demo mailbox is valid");
    service.create_endpoint(admin, input).await?;
    Ok(())
}

/// Alice's SIP account, so a softphone can register as her and answer
/// the calls offered to her; added to demo workspaces made before it was.
async fn alice_phone(service: &Service, admin: &Principal) -> Result<(), ServiceError> {
    // Without the installation's key (a demo seeded with no server) there is nothing to seal HA1 with.
    if !service.has_secret_key() {
        return Ok(());
    }
    let Some(alice) = service.store().user_by_email("alice@demo.example").await? else { return Ok(()) };
    if service.sip_account(admin, alice.id).await.is_ok() {
        return Ok(());
    }
    let account = SipAccountUpdate { username: Some(ALICE_SIP_USER.into()), password: ALICE_SIP_PASSWORD.into() };
    service.put_sip_account(admin, alice.id, account).await?;
    Ok(())
}

/// The demo's phone IVR: a welcome, a menu by key, an order number by
/// digits, then the Billing queue.
const PHONE_IVR: &str = r##"{
  "start": "welcome",
  "blocks": {
    "welcome": {"type": "message", "text": "Welcome to Acme Outdoor.", "next": "menu"},
    "menu": {"type": "buttons", "text": "How can we help?", "save_as": "topic",
             "options": [{"label": "billing", "value": "billing", "key": "1", "next": "agent"},
                         {"label": "order status", "value": "order", "key": "2", "next": "order"},
                         {"label": "an agent", "value": "agent", "key": "0", "next": "agent"}]},
    "order": {"type": "input", "text": "Please key in your order number, then press hash.", "save_as": "order",
              "digits": {"min": 3, "max": 10, "retries": 1}, "next": "agent"},
    "agent": {"type": "handoff", "text": "Connecting you to an agent."}
  }
}"##;

/// The phone number with its IVR, on the Billing queue (which takes
/// voice), added to demo workspaces made before voice was.
async fn support_line(service: &Service, admin: &Principal) -> Result<(), ServiceError> {
    if service.endpoint_at(Channel::Voice, SUPPORT_NUMBER).await?.is_some() {
        return Ok(());
    }
    let Some(billing) = service.store().queues(admin.workspace).await?.into_iter().find(|q| q.name == "Billing") else {
        return Ok(());
    };
    let definition = serde_json::from_str(PHONE_IVR).expect("the demo IVR is JSON");
    let flow = service.put_flow(admin, None, FlowUpdate { name: Some("Phone IVR".into()), definition }).await?;
    let input = serde_json::from_value(json!({
        "channel": "voice",
        "name": "Acme Outdoor phone line",
        "address": SUPPORT_NUMBER,
        "queue": billing.id,
        "flow": flow.id,
        "settings": { "trunk_host": "127.0.0.1", "trunk_port": DEMO_TRUNK_PORT },
    }))
    .expect("the demo number is valid");
    service.create_endpoint(admin, input).await?;
    Ok(())
}

fn user(email: &str, name: &str, role: Role) -> NewUser {
    NewUser { email: email.into(), name: name.into(), role, password: PASSWORD.into() }
}

fn settings(value: serde_json::Value) -> QueueSettings {
    serde_json::from_value(value).expect("demo queue settings are valid")
}

async fn seed(service: &Service) -> Result<Principal, ServiceError> {
    let (_, admin) = service.create_workspace("Demo Center", user(ADMIN_EMAIL, "Ada Admin", Role::Admin)).await?;
    let p = Principal { workspace: admin.workspace, user: admin.id, role: Role::Admin };
    for skill in ["billing", "tech", "spanish"] {
        service.create_skill(&p, skill).await?;
    }
    let step = |expr: &str, wait: Option<u64>| StepSpec {
        expr: expr.into(),
        wait: wait.map(std::time::Duration::from_secs),
        skip_if_unstaffed: true,
    };
    let experts = service
        .put_policy(&p, None, "Billing experts first", vec![step("billing >= 7", Some(20)), step("billing >= 1", None)])
        .await?;
    let anyone = service.put_policy(&p, None, "Anyone", vec![step("true", None)]).await?;
    let spanish =
        service.put_policy(&p, None, "Spanish speakers", vec![step("spanish", Some(60)), step("true", None)]).await?;
    let billing = service
        .put_queue(
            &p,
            None,
            "Billing",
            settings(json!({
                "channels": ["voice", "chat", "api"],
                "policy": experts.id,
                "wrap_up": { "fixed": 30 },
                "callback_key": CALLBACK_KEY,
            })),
        )
        .await?;
    let support = service
        .put_queue(
            &p,
            None,
            "Support",
            settings(json!({
                "channels": ["chat", "email", "api"],
                "policy": anyone.id,
                "sl_seconds": 60,
                "wrap_up": "until_ended",
            })),
        )
        .await?;
    let espanol = service
        .put_queue(&p, None, "Español", settings(json!({ "channels": ["voice", "chat", "api"], "policy": spanish.id })))
        .await?;
    let agents = [
        ("alice@demo.example", "Alice", &[("billing", 8), ("tech", 3)][..], vec![billing.id, support.id]),
        ("bob@demo.example", "Bob", &[("billing", 4), ("spanish", 1)][..], vec![billing.id, espanol.id]),
        ("carol@demo.example", "Carol", &[("tech", 9)][..], vec![support.id]),
    ];
    for (email, name, skills, queues) in agents {
        let u = service.create_user(&p, user(email, name, Role::Agent)).await?;
        let skills: BTreeMap<String, Proficiency> =
            skills.iter().map(|(s, l)| (s.to_string(), Proficiency::Level(*l))).collect();
        let spec = AgentSpec {
            skills,
            capacity: Capacity::of(&[(Channel::Voice, 1), (Channel::Chat, 3), (Channel::Email, 2), (Channel::Api, 2)]),
            queues: queues.into_iter().map(Membership::new).collect(),
            wrap_up: None,
        };
        service.put_agent(&p, u.id, spec).await?;
    }
    service.create_user(&p, user("dave@demo.example", "Dave", Role::Supervisor)).await?;
    seed_self_service(service, &p, support.id).await?;
    seed_shifts(service, &p).await?;
    Ok(p)
}

/// Shift templates for the Planning page's schedule: full days on
/// weekdays (a 30-minute unpaid lunch) and four-hour shifts any day.
async fn seed_shifts(service: &Service, p: &Principal) -> Result<(), ServiceError> {
    let templates = json!([
        { "name": "Full day", "length_minutes": 510, "starts": "07:30-10:00",
          "breaks": [{ "after_minutes": 240, "minutes": 30 }], "days": ["Mon", "Tue", "Wed", "Thu", "Fri"] },
        { "name": "Half day", "length_minutes": 240, "starts": "08:00-14:00" },
    ]);
    let templates: Vec<crate::planning::ShiftTemplate> =
        serde_json::from_value(templates).expect("demo shift templates are valid");
    for t in templates {
        service.put_document(p, None, t).await?;
    }
    Ok(())
}

/// Dispositions, canned responses, the knowledge base, the bot and the
/// chat widget in front of the Support queue.
async fn seed_self_service(service: &Service, p: &Principal, support: QueueId) -> Result<(), ServiceError> {
    for (code, label) in [
        ("resolved", "Resolved"),
        ("follow_up", "Needs follow-up"),
        ("refund_issued", "Refund issued"),
        ("escalated", "Escalated"),
    ] {
        service.put_document(p, None, Disposition { code: code.into(), label: label.into() }).await?;
    }
    for (shortcut, title, text) in [
        ("hello", "Greeting", "Hi! Thanks for contacting Acme Outdoor. How can I help you today?"),
        (
            "refund",
            "Refund timing",
            "Refunds go back to your original payment method within 5 business days of us receiving the return.",
        ),
        ("bye", "Closing", "Is there anything else I can help you with? Have a great day!"),
    ] {
        let c = CannedResponse { shortcut: shortcut.into(), title: title.into(), text: text.into() };
        service.put_document(p, None, c).await?;
    }
    let mut categories = BTreeMap::new();
    for name in ["Orders & shipping", "Billing & refunds", "Account"] {
        let c = service.put_document(p, None, KbCategory { name: name.into() }).await?;
        categories.insert(name, c.id);
    }
    for &(category, title, body) in ARTICLES {
        let b = ArticleBody {
            title: title.into(),
            body: body.into(),
            category: categories.get(category).copied(),
            published: true,
        };
        service.put_article(p, None, b).await?;
    }
    let definition: serde_json::Value =
        serde_json::from_str(switchboard_core::flow::example()).expect("the example flow is JSON");
    let flow = service.put_flow(p, None, FlowUpdate { name: Some("Web chat bot".into()), definition }).await?;
    service
        .update_chat_settings(
            p,
            ChatSettingsUpdate {
                title: Some("Acme Outdoor support".into()),
                greeting: Some(String::new()),
                queue: Some(support),
                flow: Some(Some(flow.id)),
                pre_chat: None,
            },
        )
        .await?;
    Ok(())
}

/// The demo shop's help center.
const ARTICLES: &[(&str, &str, &str)] = &[
    (
        "Billing & refunds",
        "How do refunds work?",
        "Once we receive your return we refund the full price to your original payment method. Refunds appear within 5 business days; card issuers may take a few days more to show them.",
    ),
    (
        "Orders & shipping",
        "Returning an item",
        "You can return any unused item within 30 days of delivery. Print the prepaid return label from your order page, pack the item in its original packaging and drop it at any post office.",
    ),
    (
        "Orders & shipping",
        "Where is my order?",
        "Orders ship within one business day. The tracking link is in your shipping confirmation email and on your order page. Standard delivery takes 3 to 5 business days.",
    ),
    (
        "Billing & refunds",
        "Changing your payment method",
        "Open your account, choose Payment methods, add the new card and make it the default. Orders already placed are charged to the card used at checkout.",
    ),
    (
        "Account",
        "Resetting your password",
        "Choose Forgot password on the sign-in page and enter your email address. The reset link we send is valid for one hour.",
    ),
    (
        "Billing & refunds",
        "Invoices and receipts",
        "Every order's invoice is on your order page as a PDF. Business customers can add a VAT number under Account settings before ordering.",
    ),
];
