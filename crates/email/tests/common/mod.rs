//! What the email tests share: a service with a mailbox and the listener on
//! a free port, swaks and Python's smtplib as clients, and an aiosmtpd sink.
//! Databases and workspaces come from the service's own test support.

#![allow(dead_code)] // not every test binary uses every helper

pub mod dovecot;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::ids::{ContactId, EndpointId, QueueId, WorkspaceId};
use switchboard_email::{Inbox, ListenerConfig, TlsFiles};
use switchboard_service::auth::Principal;
use switchboard_service::{ContactFilter, ContactRecord, Service};

pub const SUPPORT: &str = "support@shop.example";

/// A workspace with a mailbox on its queue, and the listener taking its mail.
pub struct Mailroom {
    pub service: Service,
    pub p: Principal,
    pub queue: QueueId,
    pub endpoint: EndpointId,
    pub smtp: SocketAddr,
    _stop: tokio::sync::watch::Sender<bool>,
}

pub async fn mailroom(url: &str, max_message_bytes: usize, settings: Value) -> Mailroom {
    mailroom_with(url, max_message_bytes, settings, None).await
}

/// A mailroom whose listener offers STARTTLS with `tls`.
pub async fn mailroom_with(url: &str, max_message_bytes: usize, settings: Value, tls: Option<TlsFiles>) -> Mailroom {
    let service = crate::support::service(url).await;
    let (p, queue) = crate::support::workspace(&service, &["email"]).await;
    let endpoint = mailbox(&service, &p, SUPPORT, queue, settings).await;
    // As the server does: what the channel carries decides what an agent may send.
    service.channels().register(Arc::new(switchboard_email::EmailChannel::new(service.clone())));
    let mut config = ListenerConfig::new("127.0.0.1:0".parse().unwrap());
    config.hostname = "mx.shop.example".into();
    config.limits.max_message_bytes = max_message_bytes;
    config.tls = tls;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let inbox = Arc::new(Inbox::new(service.clone(), Default::default()));
    let listening = switchboard_email::listen(inbox, config, stopped).await.unwrap();
    Mailroom { service, p, queue, endpoint, smtp: listening.addr, _stop: stop }
}

pub async fn mailbox(service: &Service, p: &Principal, address: &str, queue: QueueId, settings: Value) -> EndpointId {
    let input = serde_json::from_value(
        json!({ "channel": "email", "name": "Shop support", "address": address, "queue": queue, "settings": settings }),
    )
    .unwrap();
    service.create_endpoint(p, input).await.unwrap().id
}

impl Mailroom {
    /// Runs swaks against the listener; its exit status and transcript.
    pub async fn swaks(&self, args: &[&str]) -> (bool, String) {
        let mut all =
            vec!["--server".to_string(), self.smtp.ip().to_string(), "--port".into(), self.smtp.port().to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        run("swaks", all).await
    }

    /// Sends a message to the mailbox with swaks, from `from` (`<>` for none).
    pub async fn mail(&self, from: &str, args: &[&str]) -> (bool, String) {
        let mut all = vec!["--to", SUPPORT, "--from", from];
        all.extend_from_slice(args);
        self.swaks(&all).await
    }

    /// Runs a Python smtplib script with `SMTP` connected to the listener.
    pub async fn smtplib(&self, script: &str) -> (bool, String) {
        let program =
            format!("import smtplib\nSMTP = smtplib.SMTP('{}', {})\n{script}\n", self.smtp.ip(), self.smtp.port());
        run("python3", vec!["-c".into(), program]).await
    }

    /// The contacts of the customer with email `address`.
    pub async fn contacts_of(&self, address: &str) -> Vec<ContactRecord> {
        contacts_of(&self.service, self.p.workspace, address).await
    }

    /// The messages of `contact`, as the agent sees them.
    pub async fn messages(&self, contact: ContactId) -> Vec<Value> {
        self.service.messages(&self.p, contact).await.unwrap().messages
    }
}

/// The contacts of the customer with email `address` in `ws`.
pub async fn contacts_of(service: &Service, ws: WorkspaceId, address: &str) -> Vec<ContactRecord> {
    let store = service.store();
    let Some(customer) =
        store.customer_by_identity(ws, switchboard_service::IdentityKind::Email, address).await.unwrap()
    else {
        return Vec::new();
    };
    let filter = ContactFilter { customer: Some(customer.id), ..Default::default() };
    store.contacts(ws, &filter, None, 100).await.unwrap()
}

async fn run(program: &'static str, args: Vec<String>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program} is needed by these tests (scripts/test installs it): {e}"));
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    })
    .await
    .unwrap()
}

/// A self-signed certificate and its key for `name`, made by openssl in `dir`.
pub fn certificate(dir: &Path, name: &str) -> TlsFiles {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj"])
        .arg(format!("/CN={name}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl makes the test certificate");
    assert!(status.success());
    TlsFiles { cert, key }
}

/// A fresh temporary directory.
pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-email-{}", crate::support::rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Mailbox settings sending replies through `sink`.
pub fn relay(sink: &Sink) -> Value {
    json!({ "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_tls": "none" })
}

/// aiosmtpd writing what it takes to a directory (tests/sink.py).
pub struct Sink {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Sink {
    pub fn start() -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("switchboard-sink-{}-{port}", std::process::id()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sink.py");
        let mut child = Command::new("python3")
            .args([script, &port.to_string(), dir.to_str().unwrap()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd is needed by these tests (scripts/test installs it)");
        let mut ready = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "the sink did not start (is aiosmtpd installed?)");
        Sink { child, port, dir }
    }

    /// The `n`th message the sink took (from 1), waiting for it.
    pub async fn message(&self, n: usize) -> String {
        let path = self.dir.join(format!("{n}.eml"));
        for _ in 0..200 {
            if let Ok(bytes) = std::fs::read(&path) {
                return String::from_utf8_lossy(&bytes).into_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the sink got no message {n}");
    }

    /// The envelope of the `n`th message: its sender, then its recipients.
    pub async fn envelope(&self, n: usize) -> Vec<String> {
        self.message(n).await;
        let env = std::fs::read_to_string(self.dir.join(format!("{n}.env"))).unwrap();
        env.lines().map(str::to_string).collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A header's value in a message as written (first occurrence, unfolded).
pub fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next()?;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}
