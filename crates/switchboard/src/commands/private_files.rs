//! Files only their owner may read: the data directory (0700) and what the
//! server keeps in it beside the database (0600) — the lock file, the demo's
//! token, the key sealing endpoints' credentials. One place, so that no file
//! is ever created with the process's umask by a helper that forgot.

use anyhow::Context;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Creates `dir` and any missing parents with mode 0700; an existing
/// directory keeps its mode.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Opens `path` for reading and writing, creating it with mode 0600.
pub fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Replaces `path`'s contents with `contents`, creating it with mode 0600,
/// and waits until they are on disk.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut file = private_file(path).with_context(|| format!("opening {}", path.display()))?;
    file.set_len(0)
        .and_then(|()| file.write_all(contents.as_bytes()))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
