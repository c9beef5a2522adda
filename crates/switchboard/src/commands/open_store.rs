//! What the commands that open the store share: the configuration as the
//! command line amends it, logging, and opening the store (with the data
//! directory's lock) on a fresh runtime.

use super::data_dir;
use crate::cli::ServeArgs;
use anyhow::Context;
use std::path::PathBuf;
use switchboard_server::config::Config;
use switchboard_store::{Backend, Store};

pub fn config(args: &ServeArgs, default_dir: &str) -> anyhow::Result<Config> {
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

pub fn logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Opens the configured store and runs `f` with it, on a fresh runtime.
pub fn with_store<T>(config: &Config, f: impl AsyncFnOnce(Store, &Config) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let url = config.database();
        match Backend::of_url(&url)? {
            Backend::Sqlite => {
                // Held until `f` is done: one process per data directory.
                let _lock = data_dir::lock(&config.data_dir)?;
                f(Store::open(&url).await.context("opening the SQLite database")?, config).await
            }
            // Nothing of PostgreSQL's is in the data directory, so it is not
            // locked (see docs/API.md).
            Backend::Postgres => f(Store::open(&url).await.context("opening the PostgreSQL database")?, config).await,
        }
    })
}
