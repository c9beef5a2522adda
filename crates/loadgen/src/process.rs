//! Servers under test run as child processes — Switchboard and the bare
//! peer alike — so both are measured the same way: their own process and
//! runtime, reached over loopback, with their memory readable in /proc.

use anyhow::{Context, bail};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts `make(port)` on a free port, its output going to `log`, and
    /// waits until `GET /health` answers. Retries with another port if the
    /// one found free was taken before the server bound it.
    pub async fn start(log: &Path, make: impl Fn(u16) -> Command) -> anyhow::Result<Server> {
        for _ in 0..5 {
            let port = free_port()?;
            let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
            let err = out.try_clone()?;
            let child = make(port)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .context("starting the server process")?;
            let mut server = Server { child, base: format!("http://127.0.0.1:{port}"), log: log.to_path_buf() };
            match server.wait_healthy().await {
                Ok(()) => return Ok(server),
                Err(_) if server.log_text().contains("in use") => continue,
                Err(e) => bail!("{e:#}\n--- {} ---\n{}", log.display(), server.log_text()),
            }
        }
        bail!("no free port found in 5 attempts")
    }

    async fn wait_healthy(&mut self) -> anyhow::Result<()> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(1)).build()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited during start-up: {status}");
            }
            if let Ok(resp) = http.get(format!("{}/health", self.base)).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the server did not answer /health within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory (VmRSS) in KiB, from /proc.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        rss_kib(self.pid())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now (the listener is closed at once).
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A process's resident memory (VmRSS) in KiB, from /proc.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    status_field(pid, "VmRSS")
}

/// A `kB` field of /proc/PID/status.
fn status_field(pid: u32, name: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
        .with_context(|| format!("no {name} in {path}"))
}

/// The soft open-file limit of a process, from /proc/PID/limits.
pub fn open_file_limit(pid: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// A fresh directory under the system's temporary directory.
pub fn fresh_dir(label: &str) -> anyhow::Result<PathBuf> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let dir = std::env::temp_dir().join(format!("loadgen-{label}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
