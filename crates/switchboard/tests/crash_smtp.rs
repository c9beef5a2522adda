//! Crash safety of the SMTP listener in the real binary: every message
//! answered 250 before a `kill -9` is stored after a restart, once.
//!
//! Eight SMTP clients send mail to an email endpoint, each message from a
//! sender of its own (so the per-sender limit never defers one) with a
//! Message-ID of its own; once some hundreds are acknowledged the server is
//! killed with messages in flight. After a restart every acknowledged
//! message must be a conversation, and none twice. Run on SQLite and on
//! PostgreSQL.

mod support;

use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{Api, DataDir, Progress, Server};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const CLIENTS: usize = 8;
const TOTAL: usize = 1000;
const KILL_AFTER: usize = 250;
const EMAIL: &str = "admin@crash.example";
const PASSWORD: &str = "crash-test-password";
const MAILBOX: &str = "support@crash.example";

/// One SMTP reply: its code, after any continuation lines.
async fn reply(lines: &mut tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>) -> Result<u16, String> {
    loop {
        let line = lines.next_line().await.map_err(|e| e.to_string())?.ok_or("connection closed")?;
        if line.len() < 4 {
            return Err(format!("a short reply: {line}"));
        }
        if line.as_bytes()[3] == b' ' {
            return line[..3].parse().map_err(|_| format!("no code: {line}"));
        }
    }
}

async fn expect(
    lines: &mut tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
    code: u16,
    what: &str,
) -> Result<(), String> {
    match reply(lines).await? {
        c if c == code => Ok(()),
        c => Err(format!("{what}: {c}, expected {code}")),
    }
}

async fn send(write: &mut tokio::net::tcp::OwnedWriteHalf, text: String) -> Result<(), String> {
    write.write_all(text.as_bytes()).await.map_err(|e| e.to_string())
}

/// Sends messages until the tickets run out or the server dies; the
/// senders of the messages answered 250.
async fn client(c: usize, smtp: String, progress: Arc<Progress>) -> Result<Vec<String>, String> {
    let mut acked = Vec::new();
    let run = async {
        let stream = TcpStream::connect(&smtp).await.map_err(|e| e.to_string())?;
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        expect(&mut lines, 220, "greeting").await?;
        write.write_all(b"EHLO load.example\r\n").await.map_err(|e| e.to_string())?;
        expect(&mut lines, 250, "EHLO").await?;
        for seq in 0.. {
            if progress.issued.fetch_add(1, Ordering::SeqCst) >= TOTAL {
                break;
            }
            let sender = format!("c{c}.s{seq}@load.example");
            send(&mut write, format!("MAIL FROM:<{sender}>\r\n")).await?;
            expect(&mut lines, 250, "MAIL").await?;
            send(&mut write, format!("RCPT TO:<{MAILBOX}>\r\n")).await?;
            expect(&mut lines, 250, "RCPT").await?;
            send(&mut write, "DATA\r\n".to_string()).await?;
            expect(&mut lines, 354, "DATA").await?;
            progress.in_flight.fetch_add(1, Ordering::SeqCst);
            send(&mut write, format!(
                "From: <{sender}>\r\nTo: <{MAILBOX}>\r\nSubject: Order {seq}\r\nMessage-ID: <m.{c}.{seq}@load.example>\r\n\r\nWhere is order {seq}?\r\n.\r\n"
            )).await?;
            let code = reply(&mut lines).await;
            progress.in_flight.fetch_sub(1, Ordering::SeqCst);
            match code? {
                250 => {
                    acked.push(sender);
                    progress.acked.fetch_add(1, Ordering::SeqCst);
                }
                other => return Err(format!("message {seq} of client {c}: {other}")),
            }
        }
        Ok::<(), String>(())
    };
    match run.await {
        Ok(()) => Ok(acked),
        // The kill cuts connections: what was acknowledged before stands.
        Err(_) if progress.killed.load(Ordering::SeqCst) => Ok(acked),
        Err(e) => Err(e),
    }
}

async fn set_up_mailbox(api: &Api) -> u64 {
    let policy =
        api.send("POST", "/api/v1/policies", Some(json!({ "name": "Anyone", "steps": [{ "expr": "true" }] }))).await;
    let queue = api
        .send("POST", "/api/v1/queues", Some(json!({ "name": "Mail", "channels": ["email"], "policy": policy["id"] })))
        .await;
    let queue = queue["id"].as_u64().unwrap_or_else(|| panic!("queue without an id: {queue}"));
    let endpoint = api
        .send(
            "POST",
            "/api/v1/endpoints",
            Some(json!({ "channel": "email", "name": "Support", "address": MAILBOX, "queue": queue })),
        )
        .await;
    assert!(endpoint["id"].is_u64(), "{endpoint}");
    queue
}

/// The sender of every contact of `queue` and how many contacts each has.
async fn senders(api: &Api, queue: u64) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for c in support::queue_contacts(api, queue).await {
        let from = c["attributes"]["email_from"].as_str().unwrap_or_else(|| panic!("no email_from: {c}"));
        *out.entry(from.to_string()).or_default() += 1;
    }
    out
}

async fn crash_and_restart(data: &DataDir) {
    data.create_workspace("Crash", EMAIL, PASSWORD);
    let smtp = format!("127.0.0.1:{}", support::free_port());
    let mut server = Server::start_with(data, "first", &["--smtp", &smtp]).await;
    let api = Api::login(&server.base, EMAIL, PASSWORD).await;
    let queue = set_up_mailbox(&api).await;

    let progress = Arc::new(Progress::default());
    let tasks: Vec<_> = (0..CLIENTS).map(|c| tokio::spawn(client(c, smtp.clone(), progress.clone()))).collect();
    let ready = async {
        loop {
            let acked = progress.acked.load(Ordering::SeqCst);
            if acked >= KILL_AFTER && progress.in_flight.load(Ordering::SeqCst) > 0 {
                return;
            }
            assert!(!tasks.iter().all(|t| t.is_finished()), "the clients stopped after {acked}, before the kill");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(60), ready).await.is_err() {
        panic!("only {} messages acknowledged in 60 s\n{}", progress.acked.load(Ordering::SeqCst), server.log_text());
    }
    progress.killed.store(true, Ordering::SeqCst);
    let in_flight = progress.in_flight.load(Ordering::SeqCst);
    server.kill();
    let acked: Vec<String> = support::join_clients(tasks, &server).await.into_iter().flatten().collect();
    eprintln!("{} messages acknowledged; killed with {in_flight} in flight", acked.len());
    assert!(acked.len() >= KILL_AFTER && acked.len() < TOTAL, "{} acknowledged", acked.len());

    let restarted = Server::start_with(data, "restart", &["--smtp", &smtp]).await;
    let api = Api { base: restarted.base.clone(), ..api };
    let stored = senders(&api, queue).await;
    for sender in &acked {
        assert_eq!(stored.get(sender), Some(&1), "the message from {sender} was answered 250: stored once");
    }
    assert!(stored.values().all(|&n| n == 1), "no message stored twice");
}

support::on_both_databases!(
    "crash_smtp",
    crash_and_restart,
    acknowledged_mail_survives_kill_9_on_sqlite,
    acknowledged_mail_survives_kill_9_on_postgres
);
