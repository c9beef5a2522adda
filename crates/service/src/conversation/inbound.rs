//! `inbound`: a customer's message (or a conversation opened without one)
//! arriving on any channel. One call is one commit: the customer found or
//! made, the contact opened on the channel, the message, the bot's answers
//! and the hand-off to a queue are written together, and the conversation's
//! memory (the bot's place, the message ids seen) changes only after that
//! commit is durable.

use super::driver::{Action, Input, Party, SECRET, Step};
use super::messages::{AttachmentRef, Author, ButtonView, MessageBody};
use super::{BOT_RUN_KIND, BotRun, Live};
use crate::center::contact_event as event;
use crate::customers::Identified;
use crate::endpoints::Endpoint;
use crate::kinds::Kind;
use crate::verification::VERIFIED_ATTRIBUTE;
use crate::{IdentityValue, Ids, Service, ServiceError};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::flow::Outcome;
use switchboard_core::ids::{ContactId, CustomerId, EndpointId, QueueId, WorkspaceId};
use switchboard_store::{Attachment, Change, ContactRecord, ContactState, Document, IdentityKind};

/// The attribute holding a conversation's thread key, which outbound
/// delivery needs to address the customer.
pub const THREAD_ATTRIBUTE: &str = "thread";
const THREAD_KIND: &str = "thread";
/// The document remembering which conversation a `Thread::Once` key opened.
const ONCE_KIND: &str = "once";

/// Who wrote.
#[derive(Clone, Debug, Default)]
pub struct Sender {
    /// Their email, phone, provider handle…; `None` for an anonymous visitor,
    /// who becomes a new customer.
    pub identity: Option<IdentityValue>,
    pub name: Option<String>,
}

/// Which conversation a message belongs to.
#[derive(Clone, Debug)]
pub enum Thread {
    /// The provider's thread (the customer's number, a mail thread, a chat
    /// id): the open conversation with that key, or a new one.
    Key(String),
    /// A conversation the channel already knows (a chat session): it must be open.
    Contact(ContactId),
    /// Always a new conversation.
    New,
    /// A new conversation, once per key (an integrator's idempotency key):
    /// the same key again on the endpoint finds the conversation it opened,
    /// in whatever state, and changes nothing (`Received::repeat`).
    Once(String),
}

/// A customer's message.
#[derive(Clone, Debug, Default)]
pub struct IncomingMessage {
    pub text: String,
    pub html: Option<String>,
    pub attachment: Option<super::messages::AttachmentRef>,
    /// Its recipients and subject, where the channel has them (email).
    pub addressing: super::messages::Addressing,
    /// The sender's own id of the message (the provider's message id, the
    /// widget's client id): a message repeated with the same id is taken
    /// once, and the answer says it was a repeat.
    pub client_id: Option<String>,
    /// The option chosen, when the customer pressed a button or a key
    /// rather than writing.
    pub press: Option<String>,
    /// Files that came with the message, stored in the same commit, each
    /// its own record: the first as the message's `attachment` (an email's
    /// source, which must be durable before the sender is told it was
    /// taken), the others as its `attachments` (an email's parts). An
    /// `html` image whose source is `cid:` and a file's `content_id` shows
    /// that file.
    pub files: Vec<IncomingFile>,
    /// Sent by a machine (an auto-reply): logged, never answered by the
    /// bot, and a conversation it opens goes straight to the queue, so two
    /// automatons never answer each other.
    pub automatic: bool,
    /// Whether the sender is who it claims (see `SenderCheck`).
    pub sender_check: Option<super::messages::SenderCheck>,
}

/// A file a channel received with a message (see `IncomingMessage::files`).
/// The channel bounds its size; its name is checked like an upload's.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IncomingFile {
    pub name: String,
    pub content_type: String,
    /// What the message's HTML calls it (`cid:` URLs), without brackets.
    pub content_id: Option<String>,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for IncomingFile {
    // The bytes may be megabytes: a log line names the file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingFile")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("content_id", &self.content_id)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// What a new conversation starts with; ignored for an open one.
#[derive(Clone, Debug, Default)]
pub struct Opening {
    /// Contact attributes (a pre-chat form's answers).
    pub attributes: BTreeMap<String, AttrValue>,
    /// The bot's variables.
    pub variables: BTreeMap<String, String>,
    /// Messages logged before anything else (a chat's greeting).
    pub preface: Vec<MessageBody>,
    /// Straight to the queue, past the bot: a message left for an agent.
    pub skip_flow: bool,
    /// The channel runs the endpoint's flow itself, in real time (a phone
    /// call): the conversation is opened with neither bot nor queue, and the
    /// channel reports each of the bot's steps with [`Service::bot_step`].
    pub channel_runs_flow: bool,
    /// An automatic acknowledgement, logged as the endpoint's message right
    /// after the customer's and delivered like any reply; `{{reference}}`
    /// becomes the conversation's number. Never sent for a message a
    /// machine sent (it would answer an auto-reply: a mail loop).
    pub acknowledgement: Option<String>,
    /// Who the conversation is about when the sender has no identity.
    pub customer: Unidentified,
    /// Straight to this queue, past the endpoint's flow and instead of its
    /// queue: the queue an integrator's request names.
    pub queue: Option<QueueId>,
    /// The contact's routing priority (the bot's hand-off may set another).
    pub priority: i32,
}

/// Whom a conversation opened without the sender's identity is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unidentified {
    /// A new anonymous visitor (a chat without a name or an email).
    #[default]
    Visitor,
    /// A customer the channel knows by id (an integrator names one): the
    /// one it was merged into, if it was. One of another workspace, or
    /// none, is refused (field `customer`).
    Known(CustomerId),
    /// Nobody: the contact has no customer (an integrator's task about no
    /// one in particular).
    Nobody,
}

#[derive(Clone, Debug, Default)]
pub struct Inbound {
    pub sender: Sender,
    pub message: Option<IncomingMessage>,
    pub opening: Opening,
}

/// What `inbound` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub contact: ContactId,
    pub customer: Option<CustomerId>,
    /// A new conversation was opened.
    pub opened: bool,
    /// The message's `client_id` was seen before, or the conversation's
    /// `Thread::Once` key: nothing changed.
    pub repeat: bool,
}

/// The document id of a thread key: a hash, the key itself kept in the body
/// and compared, so a collision opens a new conversation rather than
/// joining a stranger's.
fn thread_doc(route: &Endpoint, key: &str) -> u64 {
    // Keyed by endpoint: two numbers or mailboxes of one workspace never
    // share a thread.
    let digest = Sha256::digest(format!("{}:{}:{key}", route.channel, route.id.0).as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("eight bytes")) >> 1
}

pub(crate) fn is_closed(state: ContactState) -> bool {
    !state.is_open() || state == ContactState::WrapUp
}

impl Service {
    /// A customer's message to `endpoint` (or, without a message, a
    /// conversation opened: a chat started), which names the workspace, the
    /// channel, the bot and the queue. See the module's note.
    pub async fn inbound(
        &self,
        endpoint: EndpointId,
        thread: Thread,
        inbound: Inbound,
    ) -> Result<Received, ServiceError> {
        let route = self
            .endpoint_by_id(endpoint)
            .await?
            .filter(|e| e.enabled)
            .ok_or_else(|| ServiceError::NotFound(format!("endpoint {}", endpoint.0)))?;
        let route = &route;
        let open = match &thread {
            Thread::Contact(id) => Some(*id),
            Thread::Key(key) => self.thread_contact(route, key).await?,
            Thread::New | Thread::Once(_) => None,
        };
        match open {
            Some(id) => self.continue_conversation(route, id, inbound).await,
            None => self.open_conversation(route, thread, inbound).await,
        }
    }

    /// The open conversation of a thread key, if any.
    async fn thread_contact(&self, route: &Endpoint, key: &str) -> Result<Option<ContactId>, ServiceError> {
        let Some(d) = self.store().document(route.workspace, THREAD_KIND, thread_doc(route, key)).await? else {
            return Ok(None);
        };
        if d.body["key"].as_str() != Some(key) {
            return Ok(None);
        }
        let Some(id) = d.body["contact"].as_u64().map(ContactId) else { return Ok(None) };
        let record = self.open_record(route.workspace, id).await?;
        Ok((!is_closed(record.state)).then_some(id))
    }

    /// The conversation a `Thread::Once` key opened, with its customer.
    async fn once_contact(
        &self,
        route: &Endpoint,
        key: &str,
    ) -> Result<Option<(ContactId, Option<CustomerId>)>, ServiceError> {
        let Some(d) = self.store().document(route.workspace, ONCE_KIND, thread_doc(route, key)).await? else {
            return Ok(None);
        };
        let Some(id) = d.body["contact"].as_u64().map(ContactId).filter(|_| d.body["key"].as_str() == Some(key)) else {
            return Ok(None);
        };
        let customer = self.store().contact(route.workspace, id).await?.and_then(|r| r.customer);
        Ok(Some((id, customer)))
    }

    /// The customer a new conversation is about (see [`Unidentified`]),
    /// with what must be committed to make them. Where one may be made
    /// (an identity, a visitor), the caller holds the workspace's customers
    /// lock until that commit. (The api channel checks a request's customer
    /// this way before making its endpoint.)
    pub(crate) async fn opening_customer(
        &self,
        ws: WorkspaceId,
        sender: &Sender,
        unidentified: Unidentified,
        name: Option<&str>,
    ) -> Result<Option<Identified>, ServiceError> {
        let identity = match (&sender.identity, unidentified) {
            (Some(_), Unidentified::Known(_)) => {
                return Err(ServiceError::invalid(
                    "customer_identity",
                    "give at most one of customer and customer_identity",
                ));
            }
            (Some(identity), _) => identity.clone(),
            (None, Unidentified::Nobody) => return Ok(None),
            (None, Unidentified::Known(id)) => {
                let customer = self
                    .surviving_customer(ws, id)
                    .await?
                    .ok_or_else(|| ServiceError::invalid("customer", format!("no customer {}", id.0)))?;
                return Ok(Some(Identified { id: customer.id, changes: Vec::new() }));
            }
            (None, Unidentified::Visitor) => {
                IdentityValue { kind: IdentityKind::Visitor, value: format!("visitor-{}", super::random_hex(8)) }
            }
        };
        let name = name.or(sender.identity.is_none().then_some("Visitor"));
        Ok(Some(self.identified_customer(ws, identity, name).await?))
    }

    async fn open_conversation(
        &self,
        route: &Endpoint,
        thread: Thread,
        inbound: Inbound,
    ) -> Result<Received, ServiceError> {
        let ws = route.workspace;
        let Inbound { sender, message, opening } = inbound;
        let name = sender.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        let (thread, once) = match thread {
            Thread::Key(k) => (Some(k), None),
            Thread::Once(k) => (None, Some(k)),
            Thread::New | Thread::Contact(_) => (None, None),
        };
        // Held until the commit below: a `Once` key is taken once however
        // many times it comes at once, and a customer made is written with
        // the contact. Contacts about known customers or nobody take the
        // customers lock not at all, so that they commit together.
        let _key = match &once {
            Some(key) => Some(self.conversations().once_lock(thread_doc(route, key)).lock().await),
            None => None,
        };
        let makes_customer = sender.identity.is_some() || opening.customer == Unidentified::Visitor;
        let _guard = match makes_customer {
            true => Some(self.customers_lock(ws).await),
            false => None,
        };
        if let Some(key) = &once
            && let Some((contact, customer)) = self.once_contact(route, key).await?
        {
            return Ok(Received { contact, customer, opened: false, repeat: true });
        }
        let customer = self.opening_customer(ws, &sender, opening.customer, name).await?;
        let customer_id = customer.as_ref().map(|c| c.id);
        let now = self.now();
        let mut attributes = opening.attributes;
        attributes.remove(VERIFIED_ATTRIBUTE);
        if let Some(key) = &thread {
            attributes.insert(THREAD_ATTRIBUTE.into(), AttrValue::Str(key.clone()));
        }
        let id = ContactId(Ids::next(&self.ids().contact));
        let mut record = ContactRecord::inbound(id, ws, customer_id, route.channel, attributes, now);
        record.priority = opening.priority;
        let mut changes = customer.map(|c| c.changes).unwrap_or_default();
        changes.push(Change::PutContact(record.clone()));
        for (kind, key) in [(THREAD_KIND, &thread), (ONCE_KIND, &once)] {
            if let Some(key) = key {
                changes.push(Change::PutDocument(Document {
                    workspace: ws,
                    kind: kind.into(),
                    id: thread_doc(route, key),
                    body: json!({ "key": key, "contact": id }),
                    updated_at: now,
                }));
            }
        }
        changes.push(event(
            &record,
            now,
            Kind::ConversationOpened,
            json!({ "channel": route.channel, "endpoint": route.id }),
        ));
        changes.extend(opening.preface.iter().map(|m| m.event(&record, now)));
        let client_id = message.as_ref().and_then(|m| m.client_id.clone());
        let input = message.as_ref().map(input_of);
        let automatic = message.as_ref().is_some_and(|m| m.automatic);
        // Where the first message is in `changes`, to be masked if it answered a `verify` block.
        let mut first = None;
        if let Some(m) = message {
            let body = self.customer_message(&record, m, name.unwrap_or_default(), &mut changes)?;
            first = Some((changes.len(), body.clone()));
            changes.push(body.event(&record, now));
        }
        if let Some(text) = opening.acknowledgement.filter(|_| !automatic) {
            let text = text.replace("{{reference}}", &id.0.to_string());
            changes.push(MessageBody::new(Author::Bot, &route.name, text).event(&record, now));
        }
        let live = self.conversations().get(id);
        let mut live = live.lock().await;
        live.loaded = true;
        if opening.channel_runs_flow {
            self.commit_and_publish(changes).await?;
            live.client_ids.extend(client_id);
            return Ok(Received { contact: id, customer: customer_id, opened: true, repeat: false });
        }
        let flow = route.flow.filter(|_| !opening.skip_flow && !automatic && opening.queue.is_none());
        match flow {
            Some(flow_id) => {
                let flow = self.flow(ws, flow_id).await?.compile()?;
                let party = Party { workspace: ws, customer: customer_id };
                let mut step = self.start_flow(party, &flow, opening.variables).await?;
                // A first message answers the bot's first question.
                if let Some(input) = input.filter(|_| !step.finished()) {
                    let mut next = self.step_flow(party, &flow, step.run, input).await?;
                    step.actions.append(&mut next.actions);
                    step = Step { run: next.run, actions: step.actions, secret: next.secret };
                    if let Some((at, body)) = first.filter(|_| step.secret) {
                        changes[at] = masked(body).event(&record, now);
                    }
                }
                live.bot = self.settle(route, record, flow_id, changes, step).await?;
            }
            None => {
                let queue = opening
                    .queue
                    .or(route.queue)
                    .ok_or_else(|| ServiceError::Conflict(format!("this {} has no queue set up", route.channel)))?;
                self.apply(ws, move |c, now, out| {
                    let mut mine = changes;
                    c.enqueue_record(record, queue, now, &mut mine)?;
                    out.extend(mine);
                    Ok(())
                })
                .await?;
                if client_id.is_none() {
                    // Nothing to remember (no bot, no message id): the
                    // memory of a conversation that only waits in line is
                    // not kept, and a later message loads it from the store.
                    drop(live);
                    self.conversations().forget(id);
                    return Ok(Received { contact: id, customer: customer_id, opened: true, repeat: false });
                }
            }
        }
        live.client_ids.extend(client_id);
        Ok(Received { contact: id, customer: customer_id, opened: true, repeat: false })
    }

    async fn continue_conversation(
        &self,
        route: &Endpoint,
        id: ContactId,
        inbound: Inbound,
    ) -> Result<Received, ServiceError> {
        let ws = route.workspace;
        let live = self.conversations().get(id);
        let mut live = live.lock().await;
        self.load(ws, id, &mut live).await?;
        let record = self.open_record(ws, id).await?;
        // A conversation is continued on its own channel only: a message
        // naming a contact of another channel (a forged email reference to
        // a chat) finds nothing.
        if record.channel != route.channel {
            return Err(ServiceError::NotFound(format!("contact {}", id.0)));
        }
        let (customer, opened) = (record.customer, false);
        let Some(message) = inbound.message else {
            return Ok(Received { contact: id, customer, opened, repeat: false });
        };
        if let Some(cid) = &message.client_id
            && live.client_ids.contains(cid)
        {
            return Ok(Received { contact: id, customer, opened, repeat: true });
        }
        if is_closed(record.state) {
            return Err(ServiceError::Conflict(format!("this {} has ended", route.channel)));
        }
        let name = match record.customer {
            Some(c) => self.store().customer(ws, c).await?.map(|c| c.name).unwrap_or_default(),
            None => String::new(),
        };
        let client_id = message.client_id.clone();
        let input = input_of(&message);
        let automatic = message.automatic;
        let mut changes = Vec::new();
        let body = self.customer_message(&record, message, &name, &mut changes)?;
        let at = changes.len();
        changes.push(body.clone().event(&record, self.now()));
        match live.bot.clone().filter(|b| !b.run.is_finished() && !automatic) {
            Some(bot) => {
                let flow = self.flow(ws, bot.flow).await?.compile()?;
                let party = Party { workspace: ws, customer: record.customer };
                let step = self.step_flow(party, &flow, bot.run, input).await?;
                if step.secret {
                    changes[at] = masked(body).event(&record, self.now());
                }
                live.bot = self.settle(route, record, bot.flow, changes, step).await?;
            }
            None => {
                self.commit_and_publish(changes).await?;
            }
        }
        live.client_ids.extend(client_id);
        Ok(Received { contact: id, customer, opened, repeat: false })
    }

    /// One step of a flow the channel runs itself (see
    /// `Opening::channel_runs_flow`): what the customer did (`customer`: the
    /// keys pressed, logged as their message), the bot's actions logged as
    /// its messages, and the hand-off or containment they end with — one
    /// commit, the same as a message channel's bot makes.
    pub async fn bot_step(
        &self,
        endpoint: EndpointId,
        contact: ContactId,
        flow: u64,
        customer: Option<String>,
        step: Step,
    ) -> Result<(), ServiceError> {
        let route = self
            .endpoint_by_id(endpoint)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("endpoint {}", endpoint.0)))?;
        let ws = route.workspace;
        let live = self.conversations().get(contact);
        let mut live = live.lock().await;
        self.load(ws, contact, &mut live).await?;
        let record = self.open_record(ws, contact).await?;
        if record.channel != route.channel {
            return Err(ServiceError::NotFound(format!("contact {}", contact.0)));
        }
        if is_closed(record.state) {
            return Err(ServiceError::Conflict(format!("this {} has ended", route.channel)));
        }
        let mut changes = Vec::new();
        if let Some(text) = customer {
            let name = match record.customer {
                Some(c) => self.store().customer(ws, c).await?.map(|c| c.name).unwrap_or_default(),
                None => String::new(),
            };
            let text = if step.secret { SECRET.to_string() } else { text };
            changes.push(MessageBody::new(Author::Customer, &name, text).event(&record, self.now()));
        }
        live.bot = self.settle(&route, record, flow, changes, step).await?;
        Ok(())
    }

    /// Loads what a conversation needs after a restart: the bot's place
    /// and the client ids already taken.
    pub(super) async fn load(&self, ws: WorkspaceId, contact: ContactId, live: &mut Live) -> Result<(), ServiceError> {
        if live.loaded {
            return Ok(());
        }
        if let Some(d) = self.store().document(ws, BOT_RUN_KIND, contact.0).await? {
            live.bot = Some(serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?);
        }
        for e in self.store().contact_events(ws, contact, Some(Kind::Message.as_str())).await? {
            if let Some(cid) = e.payload.get("client_id").and_then(serde_json::Value::as_str) {
                live.client_ids.insert(cid.to_string());
            }
        }
        live.loaded = true;
        Ok(())
    }

    /// Renders the bot's actions as messages, commits them with `changes`
    /// (and the hand-off or containment they end with), and answers the
    /// bot's state to remember — only once that commit is durable.
    async fn settle(
        &self,
        route: &Endpoint,
        mut record: ContactRecord,
        flow: u64,
        mut changes: Vec<Change>,
        step: Step,
    ) -> Result<Option<BotRun>, ServiceError> {
        let ws = record.workspace;
        let mut handoff = None;
        let mut contained = false;
        // A verification's outcome changes the record, which is written with the step.
        let mut verified = false;
        for action in step.actions {
            let now = self.now();
            match action {
                // Chat has no sound: a recording is shown as its transcript,
                // and digits are typed.
                Action::Say(text) | Action::Play { text, .. } | Action::Collect { text, .. } => {
                    changes.push(MessageBody::new(Author::Bot, BOT_NAME, text).event(&record, now))
                }
                Action::Ask { text, choices } => {
                    let mut m = MessageBody::new(Author::Bot, BOT_NAME, text);
                    m.buttons = choices.into_iter().map(|c| ButtonView { label: c.label, value: c.value }).collect();
                    changes.push(m.event(&record, now));
                }
                Action::HandOff { queue, priority, reason, attributes } => {
                    handoff = Some((queue, priority, reason, attributes))
                }
                Action::Verified { check, outcome } => {
                    let passed = outcome == Outcome::Verified;
                    record.attributes.insert(VERIFIED_ATTRIBUTE, AttrValue::Bool(passed));
                    record.updated_at = now;
                    let payload = json!({ "check": check.as_str(), "outcome": outcome.as_str() });
                    changes.push(event(&record, now, Kind::Verification, payload));
                    verified = true;
                }
                Action::End => contained = true,
            }
        }
        let bot = (!step.run.is_finished()).then_some(BotRun { flow, run: step.run });
        match &bot {
            Some(bot) => changes.push(Change::PutDocument(Document {
                workspace: ws,
                kind: BOT_RUN_KIND.into(),
                id: record.id.0,
                body: serde_json::to_value(bot).map_err(switchboard_store::StoreError::from)?,
                updated_at: self.now(),
            })),
            None => changes.push(Change::DeleteDocument { workspace: ws, kind: BOT_RUN_KIND.into(), id: record.id.0 }),
        }
        let now = self.now();
        if contained {
            record.state = ContactState::Contained;
            record.ended_at = Some(now);
            record.updated_at = now;
            changes.push(event(&record, now, Kind::BotContained, json!({})));
            changes.push(Change::PutContact(record));
            self.commit_and_publish(changes).await?;
            return Ok(bot);
        }
        let Some((queue_name, priority, reason, variables)) = handoff else {
            if verified {
                changes.push(Change::PutContact(record));
            }
            self.commit_and_publish(changes).await?;
            return Ok(bot);
        };
        // What the customer told the bot joins the attributes the channel
        // set, which win.
        let told: Vec<(String, AttrValue)> = variables
            .iter()
            .filter(|(k, _)| !record.attributes.contains_key(k) && k.as_str() != VERIFIED_ATTRIBUTE)
            .map(|(k, v)| (k.clone(), AttrValue::Str(v.clone())))
            .collect();
        record.attributes.extend(told);
        record.priority = priority;
        let fallback = route.queue;
        let channel = route.channel;
        self.apply(ws, move |c, now, out| {
            let queue = queue_name
                .as_deref()
                .and_then(|n| c.queues.values().find(|q| q.name.eq_ignore_ascii_case(n)).map(|q| q.id))
                .or(fallback)
                .ok_or_else(|| ServiceError::Conflict(format!("no queue to hand the {channel} to")))?;
            let mut handed = record.clone();
            handed.queue = Some(queue);
            let mut routed = Vec::new();
            c.enqueue_record(record, queue, now, &mut routed)?;
            out.extend(changes);
            out.push(event(
                &handed,
                now,
                Kind::BotHandoff,
                json!({ "reason": reason.as_str(), "attributes": variables }),
            ));
            out.extend(routed);
            Ok(())
        })
        .await?;
        Ok(bot)
    }
}

/// The name the bot's messages carry.
const BOT_NAME: &str = "Bot";

/// A customer's answer to a `verify` block, as the transcript keeps it.
fn masked(mut body: MessageBody) -> MessageBody {
    body.text = SECRET.to_string();
    body.html = None;
    body
}

fn input_of(m: &IncomingMessage) -> Input {
    match (&m.press, &m.attachment) {
        (Some(value), _) => Input::Press(value.clone()),
        (None, Some(a)) if m.text.is_empty() => Input::Text(a.name.clone()),
        _ => Input::Text(m.text.clone()),
    }
}

impl Service {
    /// The customer's message as logged; its files are pushed to `changes`
    /// to be stored in the same commit.
    fn customer_message(
        &self,
        record: &ContactRecord,
        m: IncomingMessage,
        name: &str,
        changes: &mut Vec<Change>,
    ) -> Result<MessageBody, ServiceError> {
        let mut body = MessageBody::new(Author::Customer, name, m.text);
        body.html = m.html;
        body.attachment = m.attachment;
        body.addressing = m.addressing;
        body.client_id = m.client_id;
        body.automatic = m.automatic;
        body.sender_check = m.sender_check;
        let mut files = Vec::with_capacity(m.files.len());
        for file in m.files {
            let name = super::messages::file_name(&file.name)?;
            let id = Ids::next(&self.ids().attachment);
            let content_type = file.content_type.to_ascii_lowercase();
            files.push(AttachmentRef {
                id,
                name: name.clone(),
                content_type: content_type.clone(),
                size: file.bytes.len(),
                sha256: Some(Sha256::digest(&file.bytes).iter().map(|b| format!("{b:02x}")).collect()),
                content_id: file.content_id,
            });
            changes.push(Change::PutAttachment(Attachment {
                workspace: record.workspace,
                id,
                contact: record.id,
                name,
                content_type,
                bytes: file.bytes,
                created_at: self.now(),
            }));
        }
        body.html = body.html.map(|html| super::inline::link_parts(&html, &files));
        let mut files = files.into_iter();
        if let Some(first) = files.next() {
            body.attachment = Some(first);
        }
        body.attachments = files.collect();
        Ok(body)
    }
}
