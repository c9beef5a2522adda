//! A real Dovecot (Debian's dovecot-imapd) for the IMAP tests: started by
//! the test on a free loopback port with a throwaway configuration in a
//! temporary directory (passwords in a passwd-file, maildirs beside it, no
//! TLS), never the system's instance. As root its mail processes run as
//! `nobody`; otherwise everything runs as the user running the tests.

use async_imap::Client;
use futures_util::TryStreamExt;
use std::net::TcpStream as StdTcp;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

const DOVECOT: &str = "/usr/sbin/dovecot";

pub struct Dovecot {
    pub dir: PathBuf,
    /// Plain IMAP (STARTTLS too when started with a certificate).
    pub port: u16,
    /// IMAP over implicit TLS, when started with a certificate.
    pub tls_port: Option<u16>,
    child: Option<Child>,
}

pub type TestSession = async_imap::Session<TcpStream>;

fn command_line(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Dovecot {
    /// A server with one user per `(name, password)`, without TLS.
    pub fn start(users: &[(&str, &str)]) -> Dovecot {
        Dovecot::start_with(users, false)
    }

    /// A server that also offers STARTTLS and implicit TLS, with a
    /// self-signed certificate made by openssl (which no client trusts).
    pub fn start_with(users: &[(&str, &str)], tls: bool) -> Dovecot {
        assert!(Path::new(DOVECOT).exists(), "Dovecot is needed by these tests (scripts/test installs dovecot-imapd)");
        let dir = super::temp_dir();
        let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let port = free();
        let tls_port = tls.then(free);
        std::fs::create_dir_all(dir.join("run")).unwrap();
        std::fs::create_dir_all(dir.join("mail")).unwrap();
        let passwd: String = users.iter().map(|(u, p)| format!("{u}:{{PLAIN}}{p}::::::\n")).collect();
        std::fs::write(dir.join("passwd"), passwd).unwrap();
        let root = command_line("id", &["-u"]) == "0";
        let (uid, gid, accounts) = if root {
            // Dovecot never gives mail to root: the maildirs belong to nobody.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("mail"), std::fs::Permissions::from_mode(0o777)).unwrap();
            ("65534".to_string(), "65534".to_string(), String::new())
        } else {
            let user = command_line("id", &["-un"]);
            let accounts = format!("default_internal_user = {user}\ndefault_login_user = {user}\n");
            (command_line("id", &["-u"]), command_line("id", &["-g"]), accounts)
        };
        let d = dir.display();
        let ssl = match tls {
            false => "ssl = no".to_string(),
            true => {
                let files = super::certificate(&dir, "imap.shop.example");
                format!("ssl = yes\nssl_cert = <{}\nssl_key = <{}", files.cert.display(), files.key.display())
            }
        };
        let imaps = tls_port.unwrap_or(0);
        let config = format!(
            "protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/run
log_path = {d}/dovecot.log
{accounts}{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{d}/mail/%u
mailbox_idle_check_interval = 1 secs
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
  }}
}}
"
        );
        std::fs::write(dir.join("dovecot.conf"), config).unwrap();
        let mut dovecot = Dovecot { dir, port, tls_port, child: None };
        dovecot.spawn();
        dovecot
    }

    fn spawn(&mut self) {
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(self.dir.join("dovecot.conf"))
            .stdin(Stdio::null())
            .spawn()
            .expect("starting dovecot");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while StdTcp::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "dovecot did not start: {}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (SIGTERM to its master, which ends the rest).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }

    /// Renumbers `user`'s INBOX as a server restored from a backup would:
    /// its UID list and indexes gone, so every message gets a new UID
    /// under a new UIDVALIDITY.
    pub fn renumber(&mut self, user: &str) {
        self.stop();
        // UIDVALIDITY comes from the clock, in seconds.
        std::thread::sleep(Duration::from_millis(1100));
        let inbox = self.dir.join("mail").join(user);
        for entry in std::fs::read_dir(&inbox).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("dovecot-uid") || name.starts_with("dovecot.index") {
                std::fs::remove_file(path).unwrap();
            }
        }
        self.spawn();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    /// A client session as `user`, for the test's own looks at the mailbox.
    pub async fn session(&self, user: &str, password: &str) -> TestSession {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = Client::new(tcp);
        client.read_response().await.unwrap().expect("a greeting");
        client.login(user, password).await.map_err(|(e, _)| e).expect("the test's login")
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Delivers `message` into `user`'s INBOX (APPEND, as a mail server's
/// delivery would leave it: not seen).
pub async fn append(session: &mut TestSession, folder: &str, message: &str) {
    append_flagged(session, folder, None, message).await;
}

/// Delivers `message` into `folder` with `flags` set, e.g. `(\Seen)`.
pub async fn append_flagged(session: &mut TestSession, folder: &str, flags: Option<&str>, message: &str) {
    session.append(folder, flags, None, message.replace('\n', "\r\n").replace("\r\r\n", "\r\n")).await.unwrap();
}

/// The UIDs of `folder` that `query` finds, sorted.
pub async fn search(session: &mut TestSession, folder: &str, query: &str) -> Vec<u32> {
    session.select(folder).await.unwrap();
    let mut found: Vec<u32> = session.uid_search(query).await.unwrap().into_iter().collect();
    found.sort_unstable();
    found
}

/// The folder's UIDVALIDITY.
pub async fn uid_validity(session: &mut TestSession, folder: &str) -> u32 {
    session.select(folder).await.unwrap().uid_validity.unwrap()
}

/// Clears `\Seen` on every message of `folder`.
pub async fn unsee_all(session: &mut TestSession, folder: &str) {
    session.select(folder).await.unwrap();
    session.uid_store("1:*", "-FLAGS.SILENT (\\Seen)").await.unwrap().try_collect::<Vec<_>>().await.unwrap();
}
