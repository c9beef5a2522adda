//! A customer's conversation: starting it, the bot in front, hand-off to a
//! queue, ending it, the rating, and the message left when nobody is there.

use super::messages::{Author, MESSAGE, MessageBody, frame};
use super::{ChatSettings, PreChatField, Signal, random_hex, session};
use crate::IdentityValue;
use crate::center::contact_event as event;
use crate::kinds::Kind;
use crate::{Center, Ids, Service, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use switchboard_core::agent::Presence;
use switchboard_core::channel::Channel;
use switchboard_core::engine::EngineError;
use switchboard_core::events::CancelReason;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::flow::{Flow, Hit, Input, Output, Run};
use switchboard_core::ids::{ContactId, CustomerId, QueueId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, ContactRecord, ContactState, Direction, Document, IdentityKind};

/// Where a bot conversation stands, kept as a document so a restart resumes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct BotRun {
    flow: u64,
    run: Run,
}

const BOT_RUN_KIND: &str = "bot_run";
/// Articles handed to the bot per search.
const SEARCH_HITS: u32 = 3;
/// How much of an article the bot says.
const ANSWER_CHARS: usize = 700;

/// What the server remembers of a conversation between requests.
#[derive(Default)]
pub struct Conversation {
    loaded: bool,
    bot: Option<BotRun>,
    /// Client ids of the customer's messages → the message's id, so a
    /// message resent after a reconnect is not posted twice.
    client_ids: HashMap<String, u64>,
    pub(super) customer_read: u64,
    pub(super) agent_read: u64,
}

/// `POST /chat/{key}/sessions`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartChat {
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct ChatStarted {
    pub session: String,
    pub contact: ContactId,
    pub customer: CustomerId,
}

/// `POST /chat/{key}/messages`: a message left while nobody is there.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeftMessage {
    pub name: Option<String>,
    pub email: String,
    pub text: String,
    /// The conversation waiting for an agent that becomes the message (the
    /// bot handed off while nobody is on shift); without it, a new one.
    #[serde(default)]
    pub session: Option<String>,
}

/// What the customer's socket sends.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerFrame {
    Message { text: String, client_id: Option<String> },
    Button { value: String, label: Option<String> },
    Attachment { id: u64, client_id: Option<String> },
    Typing { on: bool },
    Read { upto: u64 },
    Csat { score: u8, comment: Option<String> },
    End,
}

/// A verified customer session.
#[derive(Clone, Debug)]
pub struct ChatSession {
    pub workspace: WorkspaceId,
    pub contact: ContactId,
    pub key: String,
    pub token: String,
}

/// The widget's view of the settings.
#[derive(Debug, Serialize)]
pub struct ChatConfig {
    pub title: String,
    pub greeting: String,
    pub pre_chat: Vec<PreChatField>,
    /// False when nobody could answer now: the widget offers to leave a
    /// message (after the bot, when there is one).
    pub open: bool,
    /// Whether a bot answers first: it does whether or not anyone is on shift.
    pub bot: bool,
    pub attachments: Value,
}

fn is_closed(state: ContactState) -> bool {
    !state.is_open() || state == ContactState::WrapUp
}

impl Center {
    /// Puts a contact (not yet routed) in line in `queue`.
    pub fn enqueue_record(
        &mut self,
        mut record: ContactRecord,
        queue: QueueId,
        now: Timestamp,
        changes: &mut Vec<Change>,
    ) -> Result<ContactRecord, ServiceError> {
        if !self.queues.contains_key(&queue) {
            return Err(ServiceError::invalid("queue", format!("no queue {}", queue.0)));
        }
        record.queue = Some(queue);
        record.enqueued_at = Some(now);
        let mut spec = switchboard_core::contact::ContactSpec::new(record.id, record.channel, queue);
        spec.priority = record.priority;
        spec.attributes = record.attributes.clone();
        self.engine.enqueue(spec, now).map_err(|e| match e {
            EngineError::ChannelNotServed { .. } => ServiceError::invalid("channel", e.to_string()),
            other => other.into(),
        })?;
        changes.push(Change::PutContact(record.clone()));
        self.contacts.insert(record.id, record.clone());
        Ok(record)
    }

    /// Whether anyone could answer a chat in `queue` now.
    fn staffed(&self, queue: QueueId, now: Timestamp) -> bool {
        self.engine.is_open(queue, now).unwrap_or(false)
            && self
                .agents
                .values()
                .any(|a| a.presence != Presence::Offline && a.memberships.iter().any(|m| m.queue == queue))
    }
}

fn excerpt(body: &str) -> String {
    if body.chars().count() <= ANSWER_CHARS {
        return body.to_string();
    }
    let cut: String = body.chars().take(ANSWER_CHARS).collect();
    // End at a sentence or word, not mid-word.
    let end = cut.rfind(". ").map(|i| i + 1).or_else(|| cut.rfind(' ')).unwrap_or(cut.len());
    format!("{}…", &cut[..end])
}

impl Service {
    /// The customer's session, if the token is genuine for this widget.
    pub async fn chat_session(&self, key: &str, token: &str) -> Result<ChatSession, ServiceError> {
        let (ws, settings) = self.chat_workspace(key).await?;
        let contact = session::verify(&settings.secret, ws, token).ok_or(ServiceError::Unauthenticated)?;
        Ok(ChatSession { workspace: ws, contact, key: key.into(), token: token.into() })
    }

    pub async fn chat_config(&self, key: &str) -> Result<ChatConfig, ServiceError> {
        let (ws, s) = self.chat_workspace(key).await?;
        let now = self.now();
        let open = match s.queue {
            Some(q) => self.inspect(ws, |c| c.staffed(q, now)).await?,
            None => false,
        };
        Ok(ChatConfig {
            title: s.title,
            greeting: s.greeting,
            pre_chat: s.pre_chat,
            open,
            bot: s.flow.is_some(),
            attachments: json!({
                "max_bytes": super::messages::MAX_ATTACHMENT_BYTES,
                "types": super::messages::ATTACHMENT_TYPES,
            }),
        })
    }

    /// Checks the pre-chat form and returns the contact attributes it fills.
    fn pre_chat(settings: &ChatSettings, start: &StartChat) -> Result<BTreeMap<String, AttrValue>, ServiceError> {
        for name in start.fields.keys() {
            if !settings.pre_chat.iter().any(|f| f.name == *name) {
                return Err(ServiceError::invalid(format!("fields.{name}"), "not a field of this chat"));
            }
        }
        let mut attributes = BTreeMap::new();
        for f in &settings.pre_chat {
            let value = match f.name.as_str() {
                "name" => start.name.clone(),
                "email" => start.email.clone(),
                other => start.fields.get(other).cloned(),
            }
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
            let field = if ["name", "email"].contains(&f.name.as_str()) {
                f.name.clone()
            } else {
                format!("fields.{}", f.name)
            };
            match value {
                None if f.required => return Err(ServiceError::invalid(field, "required")),
                None => {}
                Some(v) if v.chars().count() > 2000 => {
                    return Err(ServiceError::invalid(field, "at most 2000 characters"));
                }
                Some(v) if f.kind == "email" && !v.contains('@') => {
                    return Err(ServiceError::invalid(field, "not an email address"));
                }
                Some(v) => {
                    attributes.insert(f.name.clone(), AttrValue::Str(v));
                }
            }
        }
        Ok(attributes)
    }

    /// The customer behind a chat: by email when given, else a new visitor.
    async fn chat_customer(
        &self,
        ws: WorkspaceId,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Result<CustomerId, ServiceError> {
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        let identity = match email {
            Some(e) => IdentityValue { kind: IdentityKind::Email, value: e.to_string() },
            None => IdentityValue { kind: IdentityKind::Visitor, value: format!("visitor-{}", random_hex(8)) },
        };
        let name = name.map(str::trim).filter(|n| !n.is_empty()).or(email.is_none().then_some("Visitor"));
        self.identified_customer(ws, identity, name).await.map_err(|e| match e {
            ServiceError::Invalid { message, .. } => ServiceError::invalid("email", message),
            other => other,
        })
    }

    fn new_chat_record(
        &self,
        ws: WorkspaceId,
        customer: CustomerId,
        attributes: BTreeMap<String, AttrValue>,
    ) -> ContactRecord {
        let now = self.now();
        ContactRecord {
            id: ContactId(Ids::next(&self.ids().contact)),
            workspace: ws,
            customer: Some(customer),
            channel: Channel::Chat,
            direction: Direction::Inbound,
            queue: None,
            state: ContactState::New,
            priority: 0,
            attributes,
            agent: None,
            enqueued_at: None,
            disposition: None,
            notes: None,
            created_at: now,
            updated_at: now,
            ended_at: None,
        }
    }

    /// Starts a conversation: the customer, the contact, the greeting, and
    /// the bot's first words (or the queue, when there is no bot).
    pub async fn start_chat(&self, key: &str, start: StartChat) -> Result<ChatStarted, ServiceError> {
        let (ws, settings) = self.chat_workspace(key).await?;
        let attributes = Self::pre_chat(&settings, &start)?;
        let customer = self.chat_customer(ws, start.name.as_deref(), start.email.as_deref()).await?;
        let record = self.new_chat_record(ws, customer, attributes);
        let id = record.id;
        let mut first = vec![Change::PutContact(record.clone())];
        if !settings.greeting.is_empty() {
            first.push(
                MessageBody::new(Author::System, &settings.title, settings.greeting.clone()).event(&record, self.now()),
            );
        }
        let conv = self.chat().conversation(id);
        let mut conv = conv.lock().await;
        conv.loaded = true;
        match settings.flow {
            Some(flow_id) => {
                let flow = self.flow(ws, flow_id).await?.compile()?;
                let mut vars = BTreeMap::new();
                vars.insert("name".to_string(), start.name.clone().unwrap_or_default().trim().to_string());
                vars.insert("email".to_string(), start.email.clone().unwrap_or_default().trim().to_string());
                for (k, v) in &start.fields {
                    vars.insert(k.clone(), v.clone());
                }
                let (run, outputs) = Run::start(&flow, vars);
                conv.bot = Some(BotRun { flow: flow_id, run });
                self.drive(&settings, &flow, record, &mut conv, first, outputs).await?;
            }
            None => {
                let queue =
                    settings.queue.ok_or_else(|| ServiceError::Conflict("this chat has no queue set up".into()))?;
                self.apply(ws, move |c, now, changes| {
                    changes.extend(first);
                    c.enqueue_record(record, queue, now, changes).map(drop)
                })
                .await?;
            }
        }
        self.chat().presence.started(ws, id, self.now());
        Ok(ChatStarted { session: session::issue(&settings.secret, ws, id), contact: id, customer })
    }

    /// Loads what a conversation needs after a restart: the bot's place
    /// and the client ids already posted.
    async fn load(&self, ws: WorkspaceId, contact: ContactId, conv: &mut Conversation) -> Result<(), ServiceError> {
        if conv.loaded {
            return Ok(());
        }
        if let Some(d) = self.store().document(ws, BOT_RUN_KIND, contact.0).await? {
            conv.bot = Some(serde_json::from_value(d.body).map_err(switchboard_store::StoreError::from)?);
        }
        for e in self.store().contact_events(ws, contact, Some(MESSAGE)).await? {
            if let Some(cid) = e.payload.get("client_id").and_then(Value::as_str) {
                conv.client_ids.insert(cid.to_string(), e.id);
            }
        }
        conv.loaded = true;
        Ok(())
    }

    /// Runs the bot's outputs — saying, asking, searching the knowledge
    /// base — and commits them with `first`, finishing with a hand-off or
    /// containment when the flow says so. All in one commit.
    async fn drive(
        &self,
        settings: &ChatSettings,
        flow: &Flow,
        mut record: ContactRecord,
        conv: &mut Conversation,
        first: Vec<Change>,
        outputs: Vec<Output>,
    ) -> Result<(), ServiceError> {
        let ws = record.workspace;
        let bot_name = "Bot";
        let mut changes = first;
        let mut pending: VecDeque<Output> = outputs.into();
        let mut handoff = None;
        let mut contained = false;
        while let Some(o) = pending.pop_front() {
            let now = self.now();
            match o {
                Output::Say { text } => changes.push(MessageBody::new(Author::Bot, bot_name, text).event(&record, now)),
                Output::Ask { text, buttons } => {
                    let mut m = MessageBody::new(Author::Bot, bot_name, text);
                    m.buttons = buttons
                        .into_iter()
                        .map(|b| super::messages::ButtonView { label: b.label, value: b.value })
                        .collect();
                    changes.push(m.event(&record, now));
                }
                Output::Search { query } => {
                    let hits = self
                        .store()
                        .search_articles(ws, &query, true, SEARCH_HITS)
                        .await?
                        .into_iter()
                        .map(|h| Hit { title: h.article.title, body: excerpt(&h.article.body), score: h.coverage })
                        .collect();
                    if let Some(bot) = conv.bot.as_mut() {
                        pending.extend(bot.run.input(flow, Input::Search(hits)));
                    }
                }
                Output::Handoff { queue, priority, reason, variables } => {
                    handoff = Some((queue, priority, reason, variables))
                }
                Output::Contained => contained = true,
            }
        }
        let finished = conv.bot.as_ref().is_none_or(|b| b.run.is_finished());
        match (&conv.bot, finished) {
            (Some(bot), false) => changes.push(Change::PutDocument(Document {
                workspace: ws,
                kind: BOT_RUN_KIND.into(),
                id: record.id.0,
                body: serde_json::to_value(bot).map_err(switchboard_store::StoreError::from)?,
                updated_at: self.now(),
            })),
            _ => changes.push(Change::DeleteDocument { workspace: ws, kind: BOT_RUN_KIND.into(), id: record.id.0 }),
        }
        if finished {
            conv.bot = None;
        }
        let now = self.now();
        if contained {
            record.state = ContactState::Contained;
            record.ended_at = Some(now);
            record.updated_at = now;
            changes.push(event(&record, now, Kind::BotContained, json!({})));
            changes.push(Change::PutContact(record));
            self.commit_and_publish(changes).await?;
            return Ok(());
        }
        let Some((queue_name, priority, reason, variables)) = handoff else {
            self.commit_and_publish(changes).await?;
            return Ok(());
        };
        for (k, v) in &variables {
            record.attributes.entry(k.clone()).or_insert_with(|| AttrValue::Str(v.clone()));
        }
        record.priority = priority;
        let fallback = settings.queue;
        self.apply(ws, move |c, now, out| {
            let queue = queue_name
                .as_deref()
                .and_then(|n| c.queues.values().find(|q| q.name.eq_ignore_ascii_case(n)).map(|q| q.id))
                .or(fallback)
                .ok_or_else(|| ServiceError::Conflict("no queue to hand the chat to".into()))?;
            out.extend(changes);
            let mut handed = record.clone();
            handed.queue = Some(queue);
            out.push(event(
                &handed,
                now,
                Kind::BotHandoff,
                json!({ "reason": reason.as_str(), "attributes": variables }),
            ));
            c.enqueue_record(record, queue, now, out).map(drop)
        })
        .await
    }

    /// A frame from the customer's socket.
    pub async fn customer_frame(&self, s: &ChatSession, frame: CustomerFrame) -> Result<(), ServiceError> {
        let (ws, id) = (s.workspace, s.contact);
        match frame {
            CustomerFrame::Typing { on } => {
                let record = self.open_record(ws, id).await?;
                self.fanout().signal(Signal {
                    workspace: ws,
                    agent: record.agent,
                    kind: "typing",
                    contact: id,
                    payload: json!({ "from": "customer", "on": on }),
                });
                Ok(())
            }
            CustomerFrame::Read { upto } => {
                let record = self.open_record(ws, id).await?;
                {
                    let conv = self.chat().conversation(id);
                    let mut conv = conv.lock().await;
                    conv.customer_read = conv.customer_read.max(upto);
                }
                self.fanout().signal(Signal {
                    workspace: ws,
                    agent: record.agent,
                    kind: "read",
                    contact: id,
                    payload: json!({ "from": "customer", "upto": upto }),
                });
                Ok(())
            }
            CustomerFrame::Message { text, client_id } => {
                let text = super::messages::message_text(&text, false)?;
                self.customer_says(s, text.clone(), None, client_id, Input::Text(text)).await
            }
            CustomerFrame::Button { value, label } => {
                let text = label.unwrap_or_else(|| value.clone());
                self.customer_says(s, text, None, None, Input::Button { value }).await
            }
            CustomerFrame::Attachment { id: a, client_id } => {
                let attachment = self.attachment_ref(ws, id, a).await?;
                let text = attachment.name.clone();
                self.customer_says(s, String::new(), Some(attachment), client_id, Input::Text(text)).await
            }
            CustomerFrame::Csat { score, comment } => self.rate_chat(ws, id, score, comment).await,
            CustomerFrame::End => self.end_chat(ws, id, "customer").await,
        }
    }

    /// A customer's message (or button, or file): logged, and fed to the
    /// bot while one is talking.
    async fn customer_says(
        &self,
        s: &ChatSession,
        text: String,
        attachment: Option<super::messages::AttachmentRef>,
        client_id: Option<String>,
        input: Input,
    ) -> Result<(), ServiceError> {
        let (ws, id) = (s.workspace, s.contact);
        let conv = self.chat().conversation(id);
        let mut conv = conv.lock().await;
        self.load(ws, id, &mut conv).await?;
        if let Some(cid) = &client_id
            && conv.client_ids.contains_key(cid)
        {
            return Ok(());
        }
        let record = self.open_record(ws, id).await?;
        if is_closed(record.state) {
            return Err(ServiceError::Conflict("this chat has ended".into()));
        }
        let name = match record.customer {
            Some(c) => self.store().customer(ws, c).await?.map(|c| c.name).unwrap_or_default(),
            None => String::new(),
        };
        let mut body = MessageBody::new(Author::Customer, &name, text);
        body.attachment = attachment;
        body.client_id = client_id.clone();
        let message = body.event(&record, self.now());
        let bot = conv.bot.clone();
        match bot {
            Some(mut bot) if !bot.run.is_finished() => {
                let settings = self.chat_settings(ws).await?;
                let flow = self.flow(ws, bot.flow).await?.compile()?;
                let outputs = bot.run.input(&flow, input);
                conv.bot = Some(bot);
                self.drive(&settings, &flow, record, &mut conv, vec![message], outputs).await?;
            }
            _ => {
                self.commit_and_publish(vec![message]).await?;
            }
        }
        if let Some(cid) = client_id {
            // The id itself is not needed again: presence is what dedupes.
            conv.client_ids.insert(cid, 0);
        }
        Ok(())
    }

    /// Ends a chat: a customer leaving, an agent closing it, or a timeout.
    /// A chat with an agent goes to wrap-up; one waiting is abandoned; one
    /// with the bot ends there (abandoned in self-service).
    pub async fn end_chat(&self, ws: WorkspaceId, id: ContactId, by: &'static str) -> Result<(), ServiceError> {
        let record = self.open_record(ws, id).await?;
        if is_closed(record.state) {
            return Ok(());
        }
        if record.state == ContactState::New {
            let now = self.now();
            let mut r = record;
            r.state = ContactState::Abandoned;
            r.ended_at = Some(now);
            r.updated_at = now;
            let ended = event(&r, now, Kind::ChatEnded, json!({ "by": by }));
            self.commit_and_publish(vec![
                ended,
                Change::PutContact(r),
                Change::DeleteDocument { workspace: ws, kind: BOT_RUN_KIND.into(), id: id.0 },
            ])
            .await?;
            self.chat().forget(id);
            return Ok(());
        }
        self.apply(ws, move |c, now, changes| {
            let Some(r) = c.contacts.get(&id).cloned() else { return Ok(()) };
            // Other channels' contacts end with the engine's `contact_ended` only.
            if r.channel == Channel::Chat {
                changes.push(event(&r, now, Kind::ChatEnded, json!({ "by": by })));
            }
            match r.state {
                ContactState::Connected => c.engine.end_contact(id, now)?,
                ContactState::Queued | ContactState::Offered | ContactState::CallbackScheduled => {
                    c.engine.cancel(id, CancelReason::Abandoned, now)?
                }
                _ => {}
            }
            Ok(())
        })
        .await
    }

    /// Ends the conversations whose customers have been gone for the grace
    /// period (see `presence`); the service's ticker calls this.
    pub async fn end_left_chats(&self) {
        for (ws, contact) in self.chat().presence.overdue(self.now()) {
            if let Err(e) = self.end_if_left(ws, contact).await {
                tracing::warn!(error = %e, contact = contact.0, "ending a left chat");
            }
        }
    }

    /// Ends a conversation whose customer left before reaching an agent
    /// (see `presence`): still with the bot or waiting, and no socket back.
    async fn end_if_left(&self, ws: WorkspaceId, id: ContactId) -> Result<(), ServiceError> {
        if self.chat().presence.is_present(id) {
            return Ok(());
        }
        let record = self.open_record(ws, id).await?;
        let unattended = matches!(record.state, ContactState::New | ContactState::Queued | ContactState::Offered);
        if unattended && !record.attributes.contains_key("left_message") {
            self.end_chat(ws, id, "timeout").await?;
        }
        Ok(())
    }

    /// The agent closes the chat; the customer is asked for a rating.
    pub async fn agent_ends_chat(&self, p: &crate::auth::Principal, id: ContactId) -> Result<(), ServiceError> {
        let record = self.own_contact(p, id).await?;
        if record.state != ContactState::Connected {
            return Err(ServiceError::Conflict(format!("contact {} is not connected", id.0)));
        }
        self.end_chat(p.workspace, id, "agent").await
    }

    /// The customer's 1–5 rating, once per contact, of a chat an agent handled.
    async fn rate_chat(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        score: u8,
        comment: Option<String>,
    ) -> Result<(), ServiceError> {
        if !(1..=5).contains(&score) {
            return Err(ServiceError::invalid("score", "a rating is 1 to 5"));
        }
        let comment = comment.map(|c| c.trim().chars().take(2000).collect::<String>()).filter(|c| !c.is_empty());
        let conv = self.chat().conversation(id);
        let _conv = conv.lock().await;
        if !self.store().contact_events(ws, id, Some(Kind::Csat.as_str())).await?.is_empty() {
            return Err(ServiceError::Conflict("this chat is rated already".into()));
        }
        let stored = self.open_record(ws, id).await?;
        if stored.agent.is_none() {
            return Err(ServiceError::Conflict("only a chat with an agent can be rated".into()));
        }
        let mut closed = stored;
        self.apply(ws, move |c, now, changes| {
            // Still in wrap-up, routing holds it; else the stored one is current.
            let record = c.contacts.get_mut(&id).unwrap_or(&mut closed);
            record.attributes.insert("csat".into(), AttrValue::Num(score as f64));
            changes.push(event(record, now, Kind::Csat, json!({ "score": score, "comment": comment })));
            changes.push(Change::PutContact(record.clone()));
            Ok(())
        })
        .await
    }

    /// A message left while the chat was closed: a contact in the chat
    /// queue, answered when someone is there.
    pub async fn leave_message(&self, key: &str, m: LeftMessage) -> Result<ContactId, ServiceError> {
        let (ws, settings) = self.chat_workspace(key).await?;
        if !m.email.contains('@') {
            return Err(ServiceError::invalid("email", "not an email address"));
        }
        let text = super::messages::message_text(&m.text, false)?;
        let mut attributes = BTreeMap::new();
        attributes.insert("left_message".to_string(), AttrValue::Bool(true));
        attributes.insert("email".to_string(), AttrValue::Str(m.email.trim().to_lowercase()));
        if let Some(token) = &m.session {
            let s = self.chat_session(key, token).await?;
            return self.leave_message_in_line(&s, m.name.unwrap_or_default(), text, attributes).await;
        }
        let queue = settings.queue.ok_or_else(|| ServiceError::Conflict("this chat has no queue set up".into()))?;
        let customer = self.chat_customer(ws, m.name.as_deref(), Some(&m.email)).await?;
        let record = self.new_chat_record(ws, customer, attributes);
        let id = record.id;
        let name = m.name.unwrap_or_default();
        let message = MessageBody::new(Author::Customer, &name, text).event(&record, self.now());
        self.apply(ws, move |c, now, changes| {
            changes.push(Change::PutContact(record.clone()));
            changes.push(message);
            c.enqueue_record(record, queue, now, changes).map(drop)
        })
        .await?;
        Ok(id)
    }

    /// Turns a conversation waiting in line into a left message: it keeps its
    /// place, the customer may go, and the agent answers by email.
    async fn leave_message_in_line(
        &self,
        s: &ChatSession,
        name: String,
        text: String,
        attributes: BTreeMap<String, AttrValue>,
    ) -> Result<ContactId, ServiceError> {
        let id = s.contact;
        self.apply(s.workspace, move |c, now, changes| {
            let record = c
                .contacts
                .get_mut(&id)
                .filter(|r| matches!(r.state, ContactState::Queued | ContactState::Offered))
                .ok_or_else(|| ServiceError::Conflict("this chat is not waiting for an agent".into()))?;
            record.attributes.extend(attributes);
            record.updated_at = now;
            changes.push(MessageBody::new(Author::Customer, &name, text).event(record, now));
            changes.push(Change::PutContact(record.clone()));
            Ok(id)
        })
        .await
    }

    /// The messages of the customer's conversation after `after`, as frames.
    pub async fn customer_backlog(&self, s: &ChatSession, after: u64) -> Result<Vec<Value>, ServiceError> {
        let url = |a: u64| format!("/chat/{}/attachments/{a}?session={}", s.key, s.token);
        Ok(self
            .store()
            .contact_events(s.workspace, s.contact, Some(MESSAGE))
            .await?
            .iter()
            .filter(|e| e.id > after)
            .map(|e| frame(e, url))
            .collect())
    }

    /// Where the conversation is, for the customer's socket.
    pub async fn chat_status(&self, s: &ChatSession) -> Result<Value, ServiceError> {
        let record = self.open_record(s.workspace, s.contact).await?;
        let id = s.contact;
        Ok(match record.state {
            ContactState::New => json!({ "type": "status", "state": "bot" }),
            ContactState::Queued | ContactState::Offered | ContactState::CallbackScheduled => {
                let now = self.now();
                let (position, wait, staffed) = self
                    .inspect(s.workspace, |c| {
                        let staffed = record.queue.is_some_and(|q| c.staffed(q, now));
                        (c.engine.position(id), c.engine.estimated_wait(id), staffed)
                    })
                    .await?;
                json!({
                    "type": "status",
                    "state": "waiting",
                    "position": position,
                    "wait_seconds": wait.map(|w| w.as_secs()),
                    "staffed": staffed,
                })
            }
            ContactState::Connected => {
                let agent = match record.agent {
                    Some(a) => self.user_name(s.workspace, a).await?,
                    None => String::new(),
                };
                json!({ "type": "status", "state": "connected", "agent": agent })
            }
            _ => json!({ "type": "status", "state": "ended" }),
        })
    }

    /// Whether the customer should be asked for a rating now: an agent
    /// handled the chat, it has ended, and it is not rated yet.
    pub async fn wants_rating(&self, s: &ChatSession) -> Result<bool, ServiceError> {
        let record = self.open_record(s.workspace, s.contact).await?;
        Ok(record.agent.is_some()
            && is_closed(record.state)
            && self.store().contact_events(s.workspace, s.contact, Some(Kind::Csat.as_str())).await?.is_empty())
    }

    /// A file the customer uploads to their own conversation.
    pub async fn customer_upload(
        &self,
        s: &ChatSession,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<super::messages::AttachmentRef, ServiceError> {
        self.store_attachment(s.workspace, s.contact, name, content_type, bytes).await
    }

    /// A file of the customer's own conversation.
    pub async fn customer_attachment(
        &self,
        s: &ChatSession,
        id: u64,
    ) -> Result<switchboard_store::Attachment, ServiceError> {
        self.store()
            .attachment(s.workspace, id)
            .await?
            .filter(|a| a.contact == s.contact)
            .ok_or_else(|| ServiceError::NotFound(format!("attachment {id}")))
    }
}
