//! `serve` and `demo`: the server on the configured store (the demo adds a
//! workspace to try it with).

use super::data_dir::{self, SavedToken};
use super::open_store::{config, logging, with_store};
use super::private_files::create_private_dir;
use crate::cli::ServeArgs;
use anyhow::Context;
use std::path::Path;
use switchboard_server::api::edge::Edge;
use switchboard_server::config::Config;
use switchboard_server::service::{Service, system_clock};
use switchboard_server::{Options, demo, start_with, stop_on_signal};
use switchboard_store::Store;

async fn run(demo: bool, store: Store, config: &Config) -> anyhow::Result<()> {
    let service = Service::new(store, system_clock(), config.session_hours).await?;
    service.chat().starts.set(config.chat_start_limit);
    let key = match &config.secret_key {
        Some(key) => key.clone(),
        None => data_dir::secret_key(&config.data_dir)?,
    };
    service.set_secret_key(key)?;
    let demo = if demo { Some(demo_workspace(&service, &config.data_dir).await?) } else { None };
    let options = Options {
        assets_dir: config.assets_dir.clone(),
        edge: Edge { trusted_proxy: config.trusted_proxy, metrics_token: config.metrics_token.clone() },
        metrics_listen: config.metrics_listen,
        public_url: config.public_url.as_ref().map(|u| u.as_str().to_string()),
        ..Options::default()
    };
    let running =
        start_with(service, config.http, options).await.with_context(|| format!("listening on {}", config.http))?;
    let base = format!("http://{}", running.addr);
    println!("Switchboard is listening on {base}");
    println!("  API:     {base}/api/v1   (health: {base}/health)");
    if let Some(at) = running.metrics_addr {
        println!("  metrics: http://{at}/metrics");
    }
    if let Some(d) = demo {
        println!("\nDemo workspace (data in {}):", config.data_dir.display());
        println!("  admin login:  {} / {}", demo::ADMIN_EMAIL, demo::PASSWORD);
        for (email, role) in &d.agents {
            println!("  {role:<10}    {email} / {}", demo::PASSWORD);
        }
        println!("  admin API token (kept in {}): {}", SavedToken::new(&config.data_dir).path().display(), d.token);
        println!("\nTry:  curl -H 'Authorization: Bearer {}' {base}/api/v1/stats/queues", d.token);
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
    with_store(&config, async |store, config| run(demo, store, config).await)
}
