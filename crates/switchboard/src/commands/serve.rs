//! `serve`, `demo` and the admin commands that open the store.

use super::data_dir::{self, SavedToken};
use crate::cli::{BackupArgs, CreateWorkspaceArgs, ServeArgs};
use anyhow::Context;
use std::path::{Path, PathBuf};
use switchboard_server::api::edge::Edge;
use switchboard_server::config::Config;
use switchboard_server::service::{NewUser, Service, system_clock};
use switchboard_server::{Options, demo, start_with, stop_on_signal};
use switchboard_store::{Backend, PostgresStore, Role, SqliteStore, Store};

fn config(args: &ServeArgs, default_dir: &str) -> anyhow::Result<Config> {
    let mut config = Config::load(args.config.as_deref())?;
    if args.config.is_none() && std::env::var_os("SWITCHBOARD_DATA_DIR").is_none() {
        config.data_dir = PathBuf::from(default_dir);
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(http) = args.http {
        config.http = http;
    }
    Ok(config)
}

fn logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Opens the configured store and runs `f` with it, on a fresh runtime.
fn with_store<T>(config: &Config, f: impl AsyncStoreFn<T>) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let url = config.database();
        match Backend::of_url(&url)? {
            Backend::Sqlite => {
                // Held until `f` is done: one process per data directory.
                let _lock = data_dir::lock(&config.data_dir)?;
                f.call(SqliteStore::open(&url).await.context("opening the SQLite database")?, config).await
            }
            // Nothing of PostgreSQL's is in the data directory, so it is not
            // locked (see docs/API.md).
            Backend::Postgres => {
                f.call(PostgresStore::open(&url).await.context("opening the PostgreSQL database")?, config).await
            }
        }
    })
}

/// A generic async closure over the store type (which Rust closures cannot be).
trait AsyncStoreFn<T> {
    async fn call<S: Store>(self, store: S, config: &Config) -> anyhow::Result<T>;
}

struct Run {
    demo: bool,
}

impl AsyncStoreFn<()> for Run {
    async fn call<S: Store>(self, store: S, config: &Config) -> anyhow::Result<()> {
        let service = Service::new(store, system_clock(), config.session_hours).await?;
        service.chat().starts.set(config.chat_start_limit);
        let demo = if self.demo { Some(demo_workspace(&service, &config.data_dir).await?) } else { None };
        let options = Options {
            assets_dir: config.assets_dir.clone(),
            edge: Edge { trusted_proxy: config.trusted_proxy, metrics_token: config.metrics_token.clone() },
            metrics_listen: config.metrics_listen,
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
}

/// The demo workspace, with the console token of the last start if it still
/// works.
async fn demo_workspace<S: Store>(service: &Service<S>, dir: &Path) -> anyhow::Result<demo::Demo> {
    let saved = SavedToken::new(dir);
    let known = saved.read();
    let demo = demo::ensure(service, known.as_deref()).await?;
    if known.as_deref() != Some(demo.token.as_str()) {
        data_dir::create_private_dir(dir)?;
        saved.write(&demo.token)?;
    }
    Ok(demo)
}

pub fn serve(args: ServeArgs, demo: bool) -> anyhow::Result<()> {
    let config = config(&args, if demo { "switchboard-demo" } else { "switchboard-data" })?;
    logging(config.log_json);
    with_store(&config, Run { demo })
}

struct CreateWorkspace {
    args: CreateWorkspaceArgs,
}

impl AsyncStoreFn<()> for CreateWorkspace {
    async fn call<S: Store>(self, store: S, config: &Config) -> anyhow::Result<()> {
        let service = Service::new(store, system_clock(), config.session_hours).await?;
        let a = self.args;
        let admin = NewUser { email: a.admin_email, name: a.admin_name, role: Role::Admin, password: a.admin_password };
        let (ws, user) = service.create_workspace(&a.name, admin).await?;
        println!("created workspace {} ({}) with administrator {}", ws.name, ws.id, user.email);
        Ok(())
    }
}

pub fn create_workspace(args: CreateWorkspaceArgs) -> anyhow::Result<()> {
    let config = config(&args.server, "switchboard-data")?;
    with_store(&config, CreateWorkspace { args })
}

/// A backup reads the database through a read-only connection of its own
/// (no migration, no writer), so it runs beside the server that holds the
/// data directory without taking its lock.
pub fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let config = config(&args.server, "switchboard-data")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime
        .block_on(switchboard_store::backup(&config.database(), &args.to))
        .with_context(|| format!("backing up to {}", args.to.display()))?;
    println!("backed up to {}", args.to.display());
    Ok(())
}
