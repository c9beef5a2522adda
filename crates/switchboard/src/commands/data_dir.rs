//! The data directory: private to its owner, and used by one process at a
//! time.
//!
//! Two servers on one SQLite database both start and overwrite each other's
//! ids, and `create-workspace` beside a running server makes the server's
//! next write collide. A lock file (`switchboard.lock`, holding the owner's
//! PID) is therefore locked exclusively for as long as a command uses the
//! directory; the operating system releases it when the process ends, even
//! on `kill -9`, so a stale file never blocks a restart.

use super::private_files::{create_private_dir, private_file, write_private};
use anyhow::{Context, bail};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use switchboard_server::service::secrets::SecretKey;

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "switchboard.lock";

/// Holds the directory's lock until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Creates `dir` (mode 0700) if missing and locks it for this process, or
/// fails naming the PID that holds it and the lock file.
pub fn lock(dir: &Path) -> anyhow::Result<DataDirLock> {
    create_private_dir(dir)?;
    let path = dir.join(LOCK_FILE);
    let mut file = private_file(&path).with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            let holder = if pid.is_empty() { "another process".to_string() } else { format!("process {pid}") };
            bail!(
                "{} is in use by {holder} (lock file {}): stop that server first, or use another data directory",
                dir.display(),
                path.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
    }
    let write_pid = |file: &mut File| -> std::io::Result<()> {
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())
    };
    write_pid(&mut file).with_context(|| format!("writing {}", path.display()))?;
    Ok(DataDirLock { _file: file })
}

/// The key file's name inside the data directory.
pub const SECRET_KEY_FILE: &str = "secret.key";

/// The key that seals endpoints' credentials, kept in the data directory
/// (mode 0600): read if there, else generated and written on first start.
/// Losing it loses the credentials (not the endpoints): back it up with the
/// database, but apart from it.
pub fn secret_key(dir: &Path) -> anyhow::Result<SecretKey> {
    let path = dir.join(SECRET_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => return SecretKey::parse(&text).with_context(|| format!("reading {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    create_private_dir(dir)?;
    let key = SecretKey::generate();
    write_private(&path, &format!("{}\n", key.to_hex()))?;
    Ok(key)
}

/// The demo's console token, kept beside the database (mode 0600) so that
/// a restart prints the same token instead of minting another.
pub struct SavedToken {
    path: PathBuf,
}

impl SavedToken {
    pub fn new(dir: &Path) -> SavedToken {
        SavedToken { path: dir.join("demo-token") }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved token, if there is a readable one.
    pub fn read(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        Some(text.trim().to_string()).filter(|t| !t.is_empty())
    }

    pub fn write(&self, token: &str) -> anyhow::Result<()> {
        write_private(&self.path, token)
    }
}
