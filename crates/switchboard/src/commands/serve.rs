//! `serve`, `demo` and the admin commands that open the store.

use crate::cli::{BackupArgs, CreateWorkspaceArgs, ServeArgs};
use anyhow::Context;
use std::path::PathBuf;
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
        match Backend::of_url(&url) {
            Backend::Sqlite => {
                std::fs::create_dir_all(&config.data_dir)
                    .with_context(|| format!("creating {}", config.data_dir.display()))?;
                f.call(SqliteStore::open(&url).await.context("opening the SQLite database")?, config).await
            }
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
        let demo = if self.demo { Some(demo::ensure(&service).await?) } else { None };
        let options = Options { assets_dir: config.assets_dir.clone(), ..Options::default() };
        let running =
            start_with(service, config.http, options).await.with_context(|| format!("listening on {}", config.http))?;
        let base = format!("http://{}", running.addr);
        println!("Switchboard is listening on {base}");
        println!("  API:     {base}/api/v1   (health: {base}/health)");
        if let Some(d) = demo {
            println!("\nDemo workspace (data in {}):", config.data_dir.display());
            println!("  admin login:  {} / {}", demo::ADMIN_EMAIL, demo::PASSWORD);
            for (email, role) in &d.agents {
                println!("  {role:<10}    {email} / {}", demo::PASSWORD);
            }
            println!("  admin API token (shown once): {}", d.token);
            println!("\nTry:  curl -H 'Authorization: Bearer {}' {base}/api/v1/stats/queues", d.token);
        }
        tracing::info!(addr = %running.addr, "serving");
        stop_on_signal(running).await;
        Ok(())
    }
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

struct Backup {
    to: PathBuf,
}

impl AsyncStoreFn<()> for Backup {
    async fn call<S: Store>(self, store: S, _: &Config) -> anyhow::Result<()> {
        store.backup(&self.to).await.with_context(|| format!("backing up to {}", self.to.display()))?;
        println!("backed up to {}", self.to.display());
        Ok(())
    }
}

pub fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let config = config(&args.server, "switchboard-data")?;
    with_store(&config, Backup { to: args.to })
}
