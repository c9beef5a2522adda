//! Crash safety of the real binary: contacts acknowledged before a `kill -9`
//! are all there after a restart, still waiting, in their original order.
//!
//! Sixteen clients create contacts on a queue nobody serves (so every one
//! stays queued); once some hundreds are acknowledged, the server is killed
//! with requests in flight. On restart every acknowledged contact must be
//! stored with its original enqueue time, back in the engine's line, and
//! the line must still put the earliest arrivals first. Run on SQLite and
//! on PostgreSQL.

mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{Api, DataDir, Progress, Server};

/// Concurrent clients, each with its own connection.
const CLIENTS: usize = 16;
/// Contacts the clients would create if the server lived.
const TOTAL: usize = 1000;
/// Acknowledged contacts before the kill.
const KILL_AFTER: usize = 400;

const EMAIL: &str = "admin@crash.example";
const PASSWORD: &str = "crash-test-password";

/// One acknowledged contact: the client's sequence number, and what the
/// server answered with its 201.
#[derive(Clone, Copy, Debug)]
struct Ack {
    seq: u64,
    id: u64,
    enqueued_at: i64,
}

/// Creates contacts one after another until the tickets run out or the
/// server dies; the acknowledgements in the order they came, or what went
/// wrong while the server was supposed to be alive.
async fn client(c: usize, api: Api, queue: u64, progress: Arc<Progress>) -> Result<Vec<Ack>, String> {
    let mut acks = Vec::new();
    for seq in 0.. {
        if progress.issued.fetch_add(1, Ordering::SeqCst) >= TOTAL {
            break;
        }
        let body = json!({ "queue": queue, "attributes": { "client": c, "seq": seq } });
        progress.in_flight.fetch_add(1, Ordering::SeqCst);
        let answer = create(&api, &body).await;
        progress.in_flight.fetch_sub(1, Ordering::SeqCst);
        match answer {
            Ok(v) => {
                let ack = parse_ack(seq, &v).map_err(|e| format!("client {c}, contact {seq}: {e}: {v}"))?;
                acks.push(ack);
                progress.acked.fetch_add(1, Ordering::SeqCst);
            }
            // The server is gone: what was in flight is lost, as expected.
            Err(_) if progress.killed.load(Ordering::SeqCst) => break,
            Err(e) => return Err(format!("client {c}, contact {seq}, before the kill: {e}")),
        }
    }
    Ok(acks)
}

/// `POST /contacts`: the created contact, or why it was not acknowledged.
async fn create(api: &Api, body: &Value) -> Result<Value, String> {
    let resp = api
        .http
        .post(format!("{}/api/v1/contacts", api.base))
        .bearer_auth(&api.token)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| format!("reading the answer: {e}"))?;
    if status != reqwest::StatusCode::CREATED {
        return Err(format!("{status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("answer is not JSON ({e}): {text}"))
}

fn parse_ack(seq: u64, v: &Value) -> Result<Ack, String> {
    if v["state"] != "queued" {
        return Err("with nobody serving the queue, a new contact should be queued".into());
    }
    let id = v["id"].as_u64().ok_or("no id")?;
    let enqueued_at = v["enqueued_at"].as_i64().ok_or("no enqueued_at")?;
    Ok(Ack { seq, id, enqueued_at })
}

/// The workspace's configuration: a skill, a policy and a queue; no agents.
async fn set_up_queue(api: &Api) -> u64 {
    api.send("POST", "/api/v1/skills", Some(json!({ "name": "billing" }))).await;
    let policy = api
        .send("POST", "/api/v1/policies", Some(json!({ "name": "Billing", "steps": [{ "expr": "billing >= 1" }] })))
        .await;
    let queue = api
        .send("POST", "/api/v1/queues", Some(json!({ "name": "Billing", "channels": ["api"], "policy": policy["id"] })))
        .await;
    queue["id"].as_u64().unwrap_or_else(|| panic!("queue without an id: {queue}"))
}

/// Runs the clients and kills the server once [`KILL_AFTER`] contacts are
/// acknowledged and requests are in flight. Each client's acknowledgements.
async fn load_and_kill(server: &mut Server, api: &Api, queue: u64) -> Vec<Vec<Ack>> {
    let progress = Arc::new(Progress::default());
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            // Its own HTTP client, hence its own connection.
            let api = Api { http: Api::client(), ..api.clone() };
            tokio::spawn(client(c, api, queue, progress.clone()))
        })
        .collect();

    let ready_to_kill = async {
        loop {
            let acked = progress.acked.load(Ordering::SeqCst);
            if acked >= KILL_AFTER && progress.in_flight.load(Ordering::SeqCst) > 0 {
                return;
            }
            let finished = tasks.iter().all(|t| t.is_finished());
            assert!(!finished, "the clients stopped after {acked} acknowledgements, before the kill");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), ready_to_kill).await.is_err() {
        panic!(
            "only {} contacts acknowledged in 30 s\n--- server log ---\n{}",
            progress.acked.load(Ordering::SeqCst),
            server.log_text()
        );
    }
    progress.killed.store(true, Ordering::SeqCst);
    let in_flight = progress.in_flight.load(Ordering::SeqCst);
    server.kill();
    eprintln!("killed the server with {in_flight} requests in flight");

    let per_client = support::join_clients(tasks, server).await;
    let acked: usize = per_client.iter().map(Vec::len).sum();
    assert!(acked >= KILL_AFTER, "{acked} acknowledged, fewer than the {KILL_AFTER} counted before the kill");
    assert!(acked < TOTAL, "all {TOTAL} contacts were acknowledged: the kill came too late to test anything");
    per_client
}

/// Every contact of `queue`, by id.
async fn all_contacts(api: &Api, queue: u64) -> HashMap<u64, Value> {
    let mut out = HashMap::new();
    for c in support::queue_contacts(api, queue).await {
        let id = c["id"].as_u64().unwrap_or_else(|| panic!("contact without an id: {c}"));
        assert!(out.insert(id, c).is_none(), "contact {id} listed twice");
    }
    out
}

/// What must hold after the restart.
async fn check_after_restart(api: &Api, queue: u64, per_client: &[Vec<Ack>]) {
    for path in ["/health", "/ready"] {
        let (status, v) = api.try_send("GET", path, None).await;
        assert!(status.is_success(), "GET {path} after the restart: {status} {v}");
    }
    // The session was committed before login answered, so it survives too.
    let (status, v) = api.try_send("GET", "/api/v1/me", None).await;
    assert!(status.is_success(), "the session opened before the crash no longer works: {status} {v}");

    let stored = all_contacts(api, queue).await;
    let acked: usize = per_client.iter().map(Vec::len).sum();
    assert!(stored.len() <= TOTAL, "{} contacts stored, more than the {TOTAL} ever sent", stored.len());
    for (c, acks) in per_client.iter().enumerate() {
        for a in acks {
            let s = stored.get(&a.id).unwrap_or_else(|| {
                panic!("contact {} (client {c}, #{}) was acknowledged but is gone after the restart", a.id, a.seq)
            });
            assert_eq!(s["state"], "queued", "contact {} after the restart: {s}", a.id);
            assert_eq!(s["enqueued_at"].as_i64(), Some(a.enqueued_at), "contact {} lost its place in line: {s}", a.id);
            let attrs = &s["attributes"];
            let same = attrs["client"].as_f64() == Some(c as f64) && attrs["seq"].as_f64() == Some(a.seq as f64);
            assert!(same, "contact {} holds another client's attributes: {s}", a.id);
        }
        // One client's requests are sequential: the later one was created later.
        for pair in acks.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(a.id < b.id, "client {c}: contact #{} has id {}, after #{} with id {}", b.seq, b.id, a.seq, a.id);
            let (ta, tb) = (stored[&a.id]["enqueued_at"].as_i64(), stored[&b.id]["enqueued_at"].as_i64());
            assert!(ta <= tb, "client {c}: contact {} enqueued at {tb:?}, before the earlier {} at {ta:?}", b.id, a.id);
        }
    }
    // Contacts committed whose answer the kill cut off are allowed; they too must be waiting.
    for (id, s) in &stored {
        assert_eq!(s["state"], "queued", "contact {id} after the restart: {s}");
    }

    // The engine's line was rebuilt from the store: all of them are waiting.
    let stats = api.get("/api/v1/stats/queues").await;
    let line = stats["queues"]
        .as_array()
        .and_then(|qs| qs.iter().find(|q| q["queue"].as_u64() == Some(queue)))
        .unwrap_or_else(|| panic!("queue {queue} missing from the statistics: {stats}"));
    let waiting = line["waiting"].as_u64().unwrap_or_else(|| panic!("no waiting count: {line}")) as usize;
    assert!(waiting >= acked, "{waiting} contacts waiting after the restart, but {acked} were acknowledged");
    assert_eq!(waiting, stored.len(), "the engine's line and the stored contacts disagree: {line}");

    check_line_order(api, queue, &stored).await;
}

/// An agent who becomes available is offered the contacts at the head of the
/// line: with one queue and equal priorities, those that waited longest.
async fn check_line_order(api: &Api, queue: u64, stored: &HashMap<u64, Value>) {
    const CAPACITY: usize = 3;
    let user = api
        .send(
            "POST",
            "/api/v1/users",
            Some(json!({ "email": "agent@crash.example", "name": "Agent", "role": "agent", "password": PASSWORD })),
        )
        .await;
    let agent = user["id"].as_u64().unwrap_or_else(|| panic!("user without an id: {user}"));
    let spec = json!({ "skills": { "billing": 5 }, "capacity": { "api": CAPACITY }, "queues": [{ "queue": queue }] });
    api.send("PUT", &format!("/api/v1/agents/{agent}"), Some(spec)).await;
    api.send("POST", &format!("/api/v1/agents/{agent}/state"), Some(json!({ "state": "available" }))).await;

    let offered = api.get(&format!("/api/v1/contacts?queue={queue}&state=offered")).await;
    let offered: Vec<u64> = offered["contacts"]
        .as_array()
        .unwrap_or_else(|| panic!("no contacts list: {offered}"))
        .iter()
        .filter_map(|c| c["id"].as_u64())
        .collect();
    assert_eq!(offered.len(), CAPACITY.min(stored.len()), "offers to an agent of capacity {CAPACITY}: {offered:?}");
    let enqueued = |id: &u64| stored[id]["enqueued_at"].as_i64().unwrap_or(i64::MAX);
    let latest_offered = offered.iter().map(enqueued).max().unwrap_or(i64::MIN);
    let earliest_left = stored.keys().filter(|id| !offered.contains(id)).map(enqueued).min().unwrap_or(i64::MAX);
    assert!(
        latest_offered <= earliest_left,
        "the head of the line is not the longest waiting: offered {offered:?} (latest enqueued at {latest_offered}) \
         while a contact enqueued at {earliest_left} still waits"
    );
}

/// The whole scenario on one data directory (and database).
async fn crash_and_restart(data: &DataDir) {
    data.create_workspace("Crash", EMAIL, PASSWORD);
    let mut server = Server::start(data, "first").await;
    let api = Api::login(&server.base, EMAIL, PASSWORD).await;
    let queue = set_up_queue(&api).await;

    let per_client = load_and_kill(&mut server, &api, queue).await;
    let acked: usize = per_client.iter().map(Vec::len).sum();
    eprintln!("{acked} contacts acknowledged before the kill");

    let restarted = Server::start(data, "restart").await;
    let api = Api { base: restarted.base.clone(), ..api };
    check_after_restart(&api, queue, &per_client).await;
}

support::on_both_databases!(
    "crash",
    crash_and_restart,
    acknowledged_contacts_survive_kill_9_on_sqlite,
    acknowledged_contacts_survive_kill_9_on_postgres
);
