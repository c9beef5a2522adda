//! `serve` and `demo`: the server on the configured store (the demo adds a
//! workspace to try it with).

use super::data_dir::{self, SavedToken};
use super::open_store::{config, logging, with_store};
use super::private_files::create_private_dir;
use crate::cli::{ServeArgs, SipArgs, SmtpArgs};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use switchboard_email::safety::{SENDER_WINDOW, SenderLimit};
use switchboard_email::{EmailChannel, Inbox, ListenerConfig, TlsFiles};
use switchboard_server::api::edge::Edge;
use switchboard_server::config::Config;
use switchboard_server::service::{Service, system_clock};
use switchboard_server::{Options, demo, start_with, stop_on_signal};
use switchboard_store::Store;
use switchboard_voice::VoiceConfig;

/// Where `demo` takes mail unless `--smtp` says otherwise.
const DEMO_SMTP: &str = "127.0.0.1:2525";

/// Where `demo` takes calls unless `--sip` says otherwise.
const DEMO_SIP: &str = "127.0.0.1:5060";

/// The SIP user agent's settings, if it is to run.
fn sip_config(args: &SipArgs, demo: bool, data_dir: &Path) -> Option<VoiceConfig> {
    let addr = args.sip.or_else(|| demo.then(|| DEMO_SIP.parse().expect("a socket address")))?;
    let mut config = VoiceConfig::new(addr, data_dir);
    config.rtp_ports = args.rtp_ports;
    config.public_ip = args.sip_public_ip;
    config.per_second = args.sip_source_rate;
    config.burst = args.sip_source_burst;
    Some(config)
}

/// The SMTP listener's settings, if it is to run.
fn smtp_config(args: &SmtpArgs, demo: bool) -> Option<ListenerConfig> {
    let addr = args.smtp.or_else(|| demo.then(|| DEMO_SMTP.parse().expect("a socket address")))?;
    let mut config = ListenerConfig::new(addr);
    config.hostname = args.smtp_hostname.clone();
    config.limits.max_message_bytes = args.smtp_max_size;
    config.max_connections_per_ip = args.smtp_connections_per_ip as usize;
    if let (Some(cert), Some(key)) = (&args.smtp_tls_cert, &args.smtp_tls_key) {
        config.tls = Some(TlsFiles { cert: cert.clone(), key: key.clone() });
    }
    Some(config)
}

async fn run(
    demo: bool,
    store: Store,
    config: &Config,
    smtp: Option<ListenerConfig>,
    senders: SenderLimit,
    sip: &SipArgs,
) -> anyhow::Result<()> {
    let service = Service::new(store, system_clock(), config.session_hours).await?;
    service.chat().starts.set(config.chat_start_limit);
    let key = match &config.secret_key {
        Some(key) => key.clone(),
        None => data_dir::secret_key(&config.data_dir)?,
    };
    service.set_secret_key(key)?;
    // Calls' recordings are written and read there.
    service.set_data_dir(config.data_dir.clone());
    let demo = if demo { Some(demo_workspace(&service, &config.data_dir).await?) } else { None };
    let options = Options {
        assets_dir: config.assets_dir.clone(),
        edge: Edge { trusted_proxy: config.trusted_proxy, metrics_token: config.metrics_token.clone() },
        metrics_listen: config.metrics_listen,
        public_url: config.public_url.as_ref().map(|u| u.as_str().to_string()),
        channels: vec![Arc::new(EmailChannel::new(service.clone()))],
        ..Options::default()
    };
    let inbox = Arc::new(Inbox::new(service.clone(), senders));
    // The IMAP mailboxes of email endpoints that name one (none in the demo
    // unless an admin adds it), into the same inbox as the listener.
    let (_stop_mailboxes, mailboxes_stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(switchboard_email::run_mailboxes(service.clone(), inbox.clone(), mailboxes_stopped));
    let voice = service.clone();
    let running =
        start_with(service, config.http, options).await.with_context(|| format!("listening on {}", config.http))?;
    // Never stopped: it ends with the process, and a message taken is
    // committed before it is acknowledged.
    let (_stop_smtp, stopped) = tokio::sync::watch::channel(false);
    let smtp = match smtp {
        None => None,
        Some(smtp) => match switchboard_email::listen(inbox, smtp, stopped).await {
            Ok(listening) => Some(listening.addr),
            // The demo's usual port may be taken: the rest of the demo still works.
            Err(e) if demo.is_some() => {
                eprintln!("warning: {e}; no email this time (try --smtp 127.0.0.1:0)");
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let (_stop_sip, stopped) = tokio::sync::watch::channel(false);
    let sip = match sip_config(sip, demo.is_some(), &config.data_dir) {
        None => None,
        Some(sip) => match switchboard_voice::listen(voice, sip, stopped).await {
            Ok(listening) => Some(listening.addr),
            Err(e) if demo.is_some() => {
                eprintln!("warning: {e}; no calls this time (try --sip 127.0.0.1:0)");
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let base = format!("http://{}", running.addr);
    println!("Switchboard is listening on {base}");
    println!("  API:     {base}/api/v1   (health: {base}/health)");
    if let Some(at) = running.metrics_addr {
        println!("  metrics: http://{at}/metrics");
    }
    if let Some(at) = smtp {
        println!("  SMTP:    {at}");
    }
    if let Some(at) = sip {
        println!("  SIP:     {at} (UDP and TCP)");
    }
    if let Some(d) = demo {
        println!("\nDemo workspace (data in {}):", config.data_dir.display());
        println!("  admin login:  {} / {}", demo::ADMIN_EMAIL, demo::PASSWORD);
        for (email, role) in &d.agents {
            println!("  {role:<10}    {email} / {}", demo::PASSWORD);
        }
        println!("  admin API token (kept in {}): {}", SavedToken::new(&config.data_dir).path().display(), d.token);
        println!("\nTry:  curl -H 'Authorization: Bearer {}' {base}/api/v1/stats/queues", d.token);
        if let Some(at) = smtp {
            println!(
                "      swaks --server {} --port {} --to {} --from you@example.com --header 'Subject: Where is my order?' --body 'It has not arrived.'",
                at.ip(),
                at.port(),
                demo::SUPPORT_EMAIL
            );
        }
        if let Some(at) = sip {
            println!(
                "      sipp -sf crates/voice/tests/sipp/ivr-dtmf-queue.xml -s {} -m 1 -i 127.0.0.1 -mi 127.0.0.1 {at}   (from the repository: presses 1, then 45#)",
                demo::SUPPORT_NUMBER.trim_start_matches('+')
            );
            println!(
                "      baresip, then: /dial sip:{}@{at}   (press 2, an order number and #)",
                demo::SUPPORT_NUMBER.trim_start_matches('+')
            );
            println!(
                "      Alice's phone: baresip with the account <sip:{}@{at}>;auth_pass={};answermode=auto",
                demo::ALICE_SIP_USER,
                demo::ALICE_SIP_PASSWORD
            );
            println!(
                "      (Alice Ready on the desktop, then call: the offer rings her phone, answering takes the call)"
            );
            println!(
                "      Courtesy callback: in the queue (press 0), press {} and # to confirm, hang up; answer the callback with\n        sipp -sn uas -i 127.0.0.1 -p {}   (the demo trunk; Alice's phone rings first, then the customer is dialled)",
                demo::CALLBACK_KEY,
                demo::DEMO_TRUNK_PORT
            );
        }
    }
    tracing::info!(addr = %running.addr, "serving");
    stop_on_signal(running).await;
    Ok(())
}

/// The demo workspace, with the console token of the last start if it still
/// works.
async fn demo_workspace(service: &Service, dir: &Path) -> anyhow::Result<demo::Demo> {
    let saved = SavedToken::new(dir);
    let known = saved.read();
    let demo = demo::ensure(service, known.as_deref()).await?;
    if known.as_deref() != Some(demo.token.as_str()) {
        create_private_dir(dir)?;
        saved.write(&demo.token)?;
    }
    Ok(demo)
}

pub fn serve(args: ServeArgs, demo: bool) -> anyhow::Result<()> {
    let config = config(&args, if demo { "switchboard-demo" } else { "switchboard-data" })?;
    logging(config.log_json);
    let smtp = smtp_config(&args.smtp, demo);
    let senders = SenderLimit::new(args.smtp.smtp_sender_limit, SENDER_WINDOW);
    with_store(&config, async |store, config| run(demo, store, config, smtp, senders, &args.sip).await)
}
