//! `backup`: an online copy of the SQLite database.

use super::open_store::config;
use crate::cli::BackupArgs;
use anyhow::Context;

/// A backup reads the database through a read-only connection of its own
/// (no migration, no writer), so it runs beside the server that holds the
/// data directory without taking its lock.
pub fn run(args: BackupArgs) -> anyhow::Result<()> {
    let config = config(&args.server, "switchboard-data")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime
        .block_on(switchboard_store::backup(&config.database(), &args.to))
        .with_context(|| format!("backing up to {}", args.to.display()))?;
    println!("backed up to {}", args.to.display());
    Ok(())
}
