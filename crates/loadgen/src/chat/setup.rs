//! The real server for a chat run: `switchboard demo` on a fresh data
//! directory (its Support queue with the bot flow in front of the chat),
//! plus agents created, logged in and made available over the API, as an
//! administrator and the agents themselves would.
//!
//! The server is restarted after the set-up, before anything is measured:
//! each password hash (creating a user, logging in) takes argon2's 19 MiB,
//! and the allocator keeps those freed blocks resident — some 300 MiB after
//! 100 agents — then hands them to the connections, which would hide what
//! the connections cost. Sessions are stored, so the logins survive it.

use super::agent::Agent;
use crate::process::Server;
use crate::switchboard::{Api, command, text};
use anyhow::{Context, bail, ensure};
use serde_json::json;
use std::path::Path;
use tokio::task::JoinSet;

/// What `switchboard demo` seeds (crates/server/src/demo.rs).
const ADMIN_EMAIL: &str = "admin@demo.example";
const ADMIN_PASSWORD: &str = "switchboard-demo";
const QUEUE: &str = "Support";
const AGENT_PASSWORD: &str = "load-test-password";

/// The most chats one agent may hold: capacity is a byte per channel.
pub const MAX_CAPACITY: usize = 255;

/// Agents created at once: each costs an argon2 hash (and its login another).
const PARALLEL: usize = 4;

pub struct Center {
    pub server: Server,
    pub widget_key: String,
    pub admin_token: String,
    pub agents: Vec<Agent>,
}

/// Starts the demo server and creates `agents` agents of the Support queue
/// who together can hold `chats` chats.
pub async fn start(binary: &Path, dir: &Path, chats: usize, agents: usize) -> anyhow::Result<Center> {
    let capacity = chats.div_ceil(agents.max(1));
    ensure!(
        capacity <= MAX_CAPACITY,
        "{agents} agents cannot hold {chats} chats (at most {MAX_CAPACITY} each): use --agents {} or more",
        chats.div_ceil(MAX_CAPACITY)
    );
    let demo = |port: u16| {
        let mut cmd = command(binary, dir, None, &["demo", "--http", &format!("127.0.0.1:{port}")]);
        // Every customer here comes from 127.0.0.1: lift the limit on
        // conversations started per address.
        cmd.env("SWITCHBOARD_CHAT_START_LIMIT", "0");
        cmd
    };
    let server = Server::start(&dir.join("setup.log"), demo).await?;
    let api = Api::new(&server.base);
    let login = api.call("/api/v1/auth/login", None, json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }));
    let admin = text(&login.await.context("the demo's admin login")?, "token")?;
    let queues = api.get("/api/v1/queues", &admin).await?;
    let queue = queues["queues"]
        .as_array()
        .and_then(|qs| qs.iter().find(|q| q["name"] == QUEUE))
        .and_then(|q| q["id"].as_u64())
        .with_context(|| format!("no {QUEUE} queue in the demo: {queues}"))?;
    let settings = api.get("/api/v1/chat/settings", &admin).await?;
    if settings["flow"].is_null() {
        bail!("the demo's chat has no bot flow: customers would not be handed off by their first words");
    }
    let widget_key = text(&settings, "widget_key")?;

    let mut made = Vec::with_capacity(agents);
    let mut creating = JoinSet::new();
    for i in 0..agents {
        if creating.len() >= PARALLEL
            && let Some(r) = creating.join_next().await
        {
            made.push(r.context("creating an agent")??);
        }
        let (base, admin) = (server.base.clone(), admin.clone());
        creating.spawn(async move { make_agent(&Api::new(&base), &admin, i, queue, capacity).await });
    }
    while let Some(r) = creating.join_next().await {
        made.push(r.context("creating an agent")??);
    }
    drop(server);
    let server = Server::start(&dir.join("server.log"), demo).await.context("restarting after the set-up")?;
    Ok(Center { server, widget_key, admin_token: admin, agents: made })
}

/// A user, made an agent of `queue` with `capacity` chats, logged in.
async fn make_agent(api: &Api, admin: &str, i: usize, queue: u64, capacity: usize) -> anyhow::Result<Agent> {
    let email = format!("agent{i}@load.example");
    let user = json!({ "email": email, "name": format!("Agent {i}"), "role": "agent", "password": AGENT_PASSWORD });
    let user = api.call("/api/v1/users", Some(admin), user).await?;
    let id = user["id"].as_u64().with_context(|| format!("a user without an id: {user}"))?;
    let spec = json!({ "capacity": { "chat": capacity }, "queues": [{ "queue": queue }] });
    api.put(&format!("/api/v1/agents/{id}"), admin, spec).await?;
    let login = api.call("/api/v1/auth/login", None, json!({ "email": email, "password": AGENT_PASSWORD })).await?;
    Ok(Agent { user: id, token: text(&login, "token")? })
}

/// Makes the agent available, with its own session.
pub async fn available(base: &str, agent: &Agent) -> anyhow::Result<()> {
    let path = format!("/api/v1/agents/{}/state", agent.user);
    Api::new(base).call(&path, Some(&agent.token), json!({ "state": "available" })).await.map(drop)
}
