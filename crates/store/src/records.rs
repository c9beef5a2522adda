//! What the store keeps: plain records, serialisable, with the domain's ids.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use switchboard_core::agent::{Capacity, Membership, Presence};
use switchboard_core::attributes::Attributes;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value;
use switchboard_core::ids::{ContactId, CustomerId, EndpointId, PolicyId, QueueId, UserId, WorkspaceId};
use switchboard_core::policy::StepSpec;
use switchboard_core::queue::WrapUp;
use switchboard_core::skills::Proficiency;
use switchboard_core::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Agent, Role::Supervisor, Role::Admin].into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub workspace: WorkspaceId,
    /// Unique across the installation: it is the login.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// PHC string (argon2id); never leaves the server.
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub created_at: Timestamp,
    pub state: UserState,
}

/// Whether a user may sign in. A deleted user is a tombstone: it keeps its
/// id, name and email so that contacts and events still name it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserState {
    #[default]
    Active,
    Disabled,
    Deleted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A login session (cookie for the web UI, bearer for the API).
    Session,
    /// A long-lived integration token, shown once.
    Api,
}

/// A bearer credential. Only its SHA-256 hash is stored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub hash: Vec<u8>,
    pub kind: TokenKind,
    pub workspace: WorkspaceId,
    pub user: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// When it last authenticated a request, to the minute or so; written
    /// by [`Change::TouchToken`] only, never by a put.
    pub last_used_at: Option<Timestamp>,
}

// Debug by hand for the two records holding credentials, so that logging
// one (or a `Change` carrying it) never writes the secret out.
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("workspace", &self.workspace)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password_hash", &"<hidden>")
            .field("created_at", &self.created_at)
            .field("state", &self.state)
            .finish()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("hash", &"<hidden>")
            .field("kind", &self.kind)
            .field("workspace", &self.workspace)
            .field("user", &self.user)
            .field("name", &self.name)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("last_used_at", &self.last_used_at)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skill {
    pub workspace: WorkspaceId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub id: PolicyId,
    pub workspace: WorkspaceId,
    pub name: String,
    pub steps: Vec<StepSpec>,
}

/// A queue's settings as the API and the store see them; the server turns
/// them into the engine's `QueueConfig`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueRecord {
    pub id: QueueId,
    pub workspace: WorkspaceId,
    pub name: String,
    /// The queue's settings (channels, policy, thresholds, hours, overflow)
    /// as JSON, so that adding a setting needs no schema change.
    pub settings: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub user: UserId,
    pub workspace: WorkspaceId,
    pub skills: BTreeMap<String, Proficiency>,
    pub capacity: Capacity,
    pub memberships: Vec<Membership>,
    pub wrap_up: Option<WrapUp>,
    /// The presence the agent last chose; restored after a restart.
    pub presence: Presence,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerRecord {
    pub id: CustomerId,
    pub workspace: WorkspaceId,
    pub name: String,
    pub attributes: BTreeMap<String, Value>,
    pub tags: Vec<String>,
    /// Set when merged into another customer: this one is then an alias.
    pub merged_into: Option<CustomerId>,
    pub created_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// E.164, e.g. +4930123456.
    Phone,
    Email,
    /// The chat widget's visitor id.
    Visitor,
    /// A messaging handle: whatsapp:+49…, telegram:123…
    Handle,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub workspace: WorkspaceId,
    pub customer: CustomerId,
    pub kind: IdentityKind,
    /// Normalised: lower-case email, E.164 phone.
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactState {
    New,
    Queued,
    Offered,
    Connected,
    WrapUp,
    Completed,
    Abandoned,
    Contained,
    CallbackScheduled,
    Failed,
    /// Withdrawn before it reached an agent (by a supervisor or an integration).
    Cancelled,
}

impl ContactState {
    /// Still being routed or handled: the engine must know it after a restart.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ContactState::New
                | ContactState::Queued
                | ContactState::Offered
                | ContactState::Connected
                | ContactState::CallbackScheduled
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub id: ContactId,
    pub workspace: WorkspaceId,
    pub customer: Option<CustomerId>,
    pub channel: Channel,
    pub direction: Direction,
    pub queue: Option<QueueId>,
    pub state: ContactState,
    pub priority: i32,
    pub attributes: Attributes,
    pub agent: Option<UserId>,
    /// When the customer started waiting (kept by callbacks and restarts).
    pub enqueued_at: Option<Timestamp>,
    pub disposition: Option<String>,
    pub notes: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

impl ContactRecord {
    /// A customer's new contact, not yet in a queue: what every channel and
    /// the API open before routing it.
    pub fn inbound(
        id: ContactId,
        workspace: WorkspaceId,
        customer: Option<CustomerId>,
        channel: Channel,
        attributes: BTreeMap<String, Value>,
        now: Timestamp,
    ) -> ContactRecord {
        let attributes = Attributes::from(attributes);
        ContactRecord {
            id,
            workspace,
            customer,
            channel,
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
}

/// One entry of the event log: every state change, in commit order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedEvent {
    /// Assigned by the store; strictly increasing in commit order.
    pub id: u64,
    pub workspace: WorkspaceId,
    pub at: Timestamp,
    /// The event's type, e.g. "offer_created"; the `type` field of `payload`.
    pub kind: String,
    pub contact: Option<ContactId>,
    pub agent: Option<UserId>,
    pub queue: Option<QueueId>,
    pub customer: Option<CustomerId>,
    pub payload: serde_json::Value,
}

/// An event to append; the store assigns its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub workspace: WorkspaceId,
    pub at: Timestamp,
    pub kind: String,
    pub contact: Option<ContactId>,
    pub agent: Option<UserId>,
    pub queue: Option<QueueId>,
    pub customer: Option<CustomerId>,
    pub payload: serde_json::Value,
}

/// An outbound webhook: committed events of the chosen kinds are POSTed to
/// `url`, signed with `secret`. `Change::DeleteWebhook` deletes one with its
/// delivery log, in its own workspace only.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: u64,
    pub workspace: WorkspaceId,
    pub url: String,
    /// Event kinds delivered (`offer_created`, …), or `["*"]` for all.
    pub events: Vec<String>,
    /// The HMAC-SHA256 key. Shown once when created; never serialised
    /// again, never logged.
    #[serde(skip_serializing)]
    pub secret: String,
    pub created_by: UserId,
    pub created_at: Timestamp,
}

impl Webhook {
    /// Whether events of `kind` go to this webhook.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == kind)
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("workspace", &self.workspace)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("secret", &"<hidden>")
            .field("created_by", &self.created_by)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// One attempt at delivering one event to one webhook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The same for every attempt at one event (`X-Switchboard-Delivery`).
    pub delivery: String,
    /// 1 for the first try.
    pub attempt: u32,
    pub workspace: WorkspaceId,
    pub webhook: u64,
    pub event: u64,
    pub kind: String,
    /// The HTTP status the receiver answered, if it answered.
    pub status: Option<u16>,
    /// Why there was no answer (connection refused, timeout…).
    pub error: Option<String>,
    pub at: Timestamp,
}

/// A small workspace-scoped configuration object: a disposition code, a
/// canned response, business hours, a bot flow, chat settings, a knowledge
/// base category… One generic table rather than one per kind, because each
/// is a handful of rows read whole and its shape belongs to the server:
/// adding a kind needs no schema change.
///
/// The key is (workspace, kind, id). Ids are handed out by the server from
/// one counter per store ([`MaxIds::document`]), so they are unique across
/// kinds and workspaces as well; the workspace being part of the key is what
/// makes a put from another workspace a row of its own there, never a move.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub workspace: WorkspaceId,
    /// What the document is, e.g. `disposition_code`, `canned_response`.
    pub kind: String,
    pub id: u64,
    pub body: serde_json::Value,
    pub updated_at: Timestamp,
}

/// A knowledge-base article: what customers and the bot search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub workspace: WorkspaceId,
    pub id: u64,
    /// The id of its category (a [`Document`] of the server's choosing).
    pub category: Option<u64>,
    pub title: String,
    /// Plain text (or Markdown): it is indexed word by word as given.
    pub body: String,
    /// Unpublished articles are drafts: agents see them, customers do not.
    pub published: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One result of [`Store::search_articles`](crate::Store::search_articles).
///
/// Both numbers are in [0, 1], higher meaning a better match, and meant for
/// a caller deciding whether it is confident (a bot answering by itself):
///
/// - `score` is the backend's relevance `r` mapped to `r / (1 + r)`, so it
///   is above 0 for every hit and 0.5 where `r` is 1. On SQLite `r` is the
///   negated FTS5 `bm25()` with the title weighted 3:1 over the body; on
///   PostgreSQL it is `ts_rank()` with the title weighted A (1.0) and the
///   body B (0.4). The order of the hits is the order of `score`, but the
///   two backends' numbers are not on one scale: a threshold on `score`
///   must be tuned per backend. On SQLite it also moves with the whole
///   installation's articles, other workspaces' included: bm25 weighs a
///   word by how rare it is across all of them, and a word in half of them
///   or more counts for almost nothing (a score near 0 however well the
///   article matches).
/// - `coverage` is the fraction of the query's distinct words that occur in
///   the article's title or body, counting only words of three or more
///   letters that are not stop words (the English list PostgreSQL's
///   `english` configuration ignores, used on both backends). A word occurs
///   when the article matches it as the search would, with stemming:
///   `refunds` occurs in an article saying `refund`. It is 0 when the query
///   has no word that counts. It depends on nothing but the query and the
///   article, and means the same on both backends (up to the small
///   differences between their English stemmers), which makes it the
///   number to put a threshold on first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArticleHit {
    pub article: Article,
    pub score: f64,
    pub coverage: f64,
    /// Plain text (not HTML: the body's own markup comes through as it is)
    /// from the body around the matched words, which are marked
    /// `**like this**`; the start of the body when only the title matched.
    /// About 24 words; on SQLite `…` marks where text was cut.
    pub snippet: String,
}

/// A file sent in a chat, kept whole in the database: attachments are
/// small (the server caps them), and one place for everything keeps backups
/// and deletes simple.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub workspace: WorkspaceId,
    pub id: u64,
    /// The contact (chat) it was sent in.
    pub contact: ContactId,
    /// The file name as the sender gave it.
    pub name: String,
    /// The MIME type as the sender gave it; checked by the server, not here.
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub created_at: Timestamp,
}

// By hand, so that logging an attachment (or a `Change` carrying one) shows
// its size rather than every byte.
impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("workspace", &self.workspace)
            .field("id", &self.id)
            .field("contact", &self.contact)
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A way in to a workspace (Chatwoot calls them inboxes): a chat widget, a
/// phone number, a mailbox, a messaging account. `Change::DeleteEndpoint`
/// deletes one, in its own workspace only; its id is never handed out again.
#[derive(Clone, PartialEq)]
pub struct EndpointRecord {
    pub id: EndpointId,
    pub workspace: WorkspaceId,
    pub channel: Channel,
    pub name: String,
    /// What the channel knows it by (`+15551234567`, `support@example.com`,
    /// the chat widget's key): unique per channel across all workspaces, so
    /// that an inbound call or mail finds its endpoint. None while unset.
    pub address: Option<String>,
    pub queue: Option<QueueId>,
    /// The bot or IVR flow (a document's id) that answers first.
    pub flow: Option<u64>,
    /// The business hours (a document's id) it keeps.
    pub business_hours: Option<u64>,
    pub enabled: bool,
    /// The channel's settings that are not secret, as a JSON object.
    pub settings: serde_json::Value,
    /// The channel's credentials, encrypted by the service: the store never
    /// sees them in clear. Empty when there are none.
    pub secrets: Vec<u8>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

// By hand, so that logging an endpoint (or a `Change` carrying one) shows
// the size of its sealed credentials, never their bytes.
impl fmt::Debug for EndpointRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointRecord")
            .field("id", &self.id)
            .field("workspace", &self.workspace)
            .field("channel", &self.channel)
            .field("name", &self.name)
            .field("address", &self.address)
            .field("queue", &self.queue)
            .field("flow", &self.flow)
            .field("business_hours", &self.business_hours)
            .field("enabled", &self.enabled)
            .field("settings", &self.settings)
            .field("secrets", &format_args!("<{} sealed bytes>", self.secrets.len()))
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

impl NewEvent {
    /// The event as the log holds it once the store has given it `id`.
    pub fn logged(self, id: u64) -> LoggedEvent {
        LoggedEvent {
            id,
            workspace: self.workspace,
            at: self.at,
            kind: self.kind,
            contact: self.contact,
            agent: self.agent,
            queue: self.queue,
            customer: self.customer,
            payload: self.payload,
        }
    }
}

/// One change of a batch. `Put` is an upsert of the whole record.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    PutWorkspace(Workspace),
    PutUser(User),
    PutToken(Token),
    DeleteToken {
        hash: Vec<u8>,
    },
    /// Deletes the user's tokens (of `kind` only, if given), in this
    /// workspace only: ends their sessions, revokes their API tokens.
    DeleteTokensOf {
        workspace: WorkspaceId,
        user: UserId,
        kind: Option<TokenKind>,
    },
    /// Records that a token was used at `at`; a token that is not there is
    /// no error.
    TouchToken {
        hash: Vec<u8>,
        at: Timestamp,
    },
    PutSkill(Skill),
    PutPolicy(PolicyRecord),
    PutQueue(QueueRecord),
    PutAgent(AgentRecord),
    PutCustomer(CustomerRecord),
    PutIdentity(Identity),
    /// Removes one identity from whichever customer holds it, in this
    /// workspace only; an identity that is not there is no error.
    DeleteIdentity {
        workspace: WorkspaceId,
        kind: IdentityKind,
        value: String,
    },
    PutContact(ContactRecord),
    Append(NewEvent),
    PutWebhook(Webhook),
    DeleteWebhook {
        workspace: WorkspaceId,
        id: u64,
    },
    PutDelivery(Delivery),
    PutDocument(Document),
    /// Deletes one document, in this workspace only; one that is not there
    /// is no error.
    DeleteDocument {
        workspace: WorkspaceId,
        kind: String,
        id: u64,
    },
    /// Also (re)indexes the article for [`Store::search_articles`](crate::Store::search_articles).
    PutArticle(Article),
    /// Deletes one article (and its place in the search index), in this
    /// workspace only; one that is not there is no error.
    DeleteArticle {
        workspace: WorkspaceId,
        id: u64,
    },
    PutAttachment(Attachment),
    PutEndpoint(EndpointRecord),
    /// Deletes one endpoint, in this workspace only; one that is not there
    /// is no error. Its address is free again at once.
    DeleteEndpoint {
        workspace: WorkspaceId,
        id: EndpointId,
    },
    PutRosterShift(RosterShift),
    /// Deletes an agent's shift on a local day, in this workspace only; one
    /// that is not there is no error.
    DeleteRosterShift {
        workspace: WorkspaceId,
        agent: UserId,
        day: String,
    },
}

/// One agent's shift on one local day of a published roster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RosterShift {
    pub workspace: WorkspaceId,
    pub agent: UserId,
    /// The local date (`YYYY-MM-DD`, the workspace's time zone) the shift
    /// starts on: with the agent, the key, so an agent has at most one shift
    /// a day.
    pub day: String,
    /// The queue the agent covers during the shift.
    pub queue: QueueId,
    /// The shift template it came from (or `manual`).
    pub template: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub breaks: Vec<ShiftBreak>,
    pub updated_at: Timestamp,
}

/// A break within a shift, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShiftBreak {
    pub start: Timestamp,
    pub end: Timestamp,
    /// A paid break counts towards the agent's hours; an unpaid one (lunch) does not.
    #[serde(default)]
    pub paid: bool,
}

/// Filters for listing contacts; all optional, combined with AND.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactFilter {
    pub state: Option<ContactState>,
    pub channel: Option<Channel>,
    pub queue: Option<QueueId>,
    pub agent: Option<UserId>,
    pub customer: Option<CustomerId>,
}

/// The largest id in use per kind, so a server can hand out new ids without
/// asking the database each time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaxIds {
    pub workspace: u64,
    pub user: u64,
    pub policy: u64,
    pub queue: u64,
    pub customer: u64,
    pub contact: u64,
    /// Also counts webhooks only their delivery log still names.
    pub webhook: u64,
    /// Over all documents, whatever their kind (document ids are unique
    /// across kinds), and over deleted ones too: an article's category or
    /// an old event may still name a deleted document, so its id must not
    /// come back for another.
    pub document: u64,
    /// Also counts deleted articles, for the same reason.
    pub article: u64,
    pub attachment: u64,
    /// Also counts deleted endpoints: events and contacts may still name one.
    pub endpoint: u64,
}
