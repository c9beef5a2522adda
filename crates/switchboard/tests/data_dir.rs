//! The data directory as the real binary treats it: one process at a time,
//! private files, a read-only database refused at start-up, and errors
//! that say what is wrong (once) and how to fix it.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{DataDir, Server};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd` to its end, failing the test if that takes longer than `limit`
/// (a command that should refuse to start must not serve instead).
fn run_within(mut cmd: Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawning");
    while child.try_wait().expect("waiting").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("still running after {limit:?}: {}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().expect("output"), started.elapsed())
}

#[tokio::test]
async fn a_second_process_on_a_live_data_directory_refuses_naming_pid_and_path() {
    let data = DataDir::new("locked", None);
    let server = Server::start(&data, "first").await;
    let lock = data.dir.join("switchboard.lock");
    for args in [
        vec!["serve", "--http", "127.0.0.1:0"],
        vec!["demo", "--http", "127.0.0.1:0"],
        vec!["create-workspace", "--name", "X", "--admin-email", "x@example.com", "--admin-password", "long-enough-pw"],
    ] {
        let (out, _) = run_within(data.command(&args), Duration::from_secs(20));
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} ran beside a live server: {err}");
        assert!(err.contains(&format!("process {}", server.pid())), "{args:?}: {err}");
        assert!(err.contains(&lock.display().to_string()), "{args:?}: {err}");
    }
    // The server is unharmed, and its files are its owner's only.
    let health = reqwest::get(format!("{}/ready", server.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    for file in ["switchboard.db", "switchboard.db-wal", "switchboard.db-shm", "switchboard.lock", "secret.key"] {
        assert_eq!(mode(&data.dir.join(file)), 0o600, "{file}");
    }
    assert_eq!(std::fs::read_to_string(&lock).unwrap().trim(), server.pid().to_string());

    // A backup only reads, through a connection of its own: it runs beside
    // the server, and the copy is as private as the database.
    let copy = data.dir.join("copy.db");
    let (out, _) = run_within(data.command(&["backup", copy.to_str().unwrap()]), Duration::from_secs(20));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&copy), 0o600);
    drop(server);

    // Once the server is gone (even by SIGKILL) the directory is free again.
    data.create_workspace("After", "after@example.com", "long-enough-pw");
}

#[test]
fn a_new_data_directory_is_private() {
    let parent = DataDir::new("private", None);
    let dir = parent.dir.join("new").join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "create-workspace",
            "--name",
            "P",
            "--admin-email",
            "p@example.com",
            "--admin-password",
            "long-enough-pw",
        ])
        .arg("--data-dir")
        .arg(&dir)
        .env_remove("SWITCHBOARD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("switchboard.db")), 0o600);
}

/// The binary run as an unprivileged user: root writes read-only files
/// anyway, so when the tests run as root the binary runs as `nobody`.
fn unprivileged(args: &[&str], data_dir: &Path) -> Command {
    let mut cmd = if running_as_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_switchboard")]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
    };
    cmd.args(args).arg("--data-dir").arg(data_dir).env_remove("SWITCHBOARD_DATABASE_URL");
    cmd.env("SWITCHBOARD_ADMIN_PASSWORD", "long-enough-pw");
    cmd
}

/// `/proc/self` belongs to the effective user.
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

#[test]
fn a_read_only_database_stops_start_up_naming_the_file() {
    let parent = DataDir::new("readonly", None);
    if running_as_root() {
        std::os::unix::fs::chown(&parent.dir, Some(65534), Some(65534)).unwrap();
    }
    let dir = parent.dir.join("data");
    let create = ["create-workspace", "--name", "R", "--admin-email", "r@example.com"];
    let (out, _) = run_within(unprivileged(&create, &dir), Duration::from_secs(30));
    assert!(out.status.success(), "{}", stderr(&out));
    let db = dir.join("switchboard.db");

    // A read-only database file: it opens, but takes no write.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
    let serve = ["serve", "--http", "127.0.0.1:0"];
    let (out, _) = run_within(unprivileged(&serve, &dir), Duration::from_secs(20));
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(&db.display().to_string()) && err.contains("not writable"), "{err}");
    assert_eq!(err.matches("readonly database").count(), 1, "each cause once: {err}");

    // A read-only directory: not even the lock file can be opened.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    std::fs::set_permissions(dir.join("switchboard.lock"), std::fs::Permissions::from_mode(0o400)).unwrap();
    let (out, _) = run_within(unprivileged(&serve, &dir), Duration::from_secs(20));
    let err = stderr(&out);
    assert!(!out.status.success() && err.contains(&dir.display().to_string()), "{err}");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// `serve` on the database `url`, which must fail: its error and how long
/// it took.
fn serve_failing_on(url: &str) -> (String, Duration) {
    let data = DataDir::new("bad-database", None);
    let mut cmd = data.command(&["serve", "--http", "127.0.0.1:0"]);
    cmd.env("SWITCHBOARD_DATABASE_URL", url);
    let (out, took) = run_within(cmd, Duration::from_secs(20));
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    (err, took)
}

#[test]
fn an_unreachable_postgresql_fails_fast_saying_why() {
    let (err, took) = serve_failing_on("postgres://127.0.0.1:1/x");
    assert!(took < Duration::from_secs(10), "took {took:?}: {err}");
    assert_eq!(err.to_lowercase().matches("connection refused").count(), 1, "{err}");
    assert!(!err.contains("timed out"), "{err}");
}

#[test]
fn an_unknown_database_scheme_is_named_with_the_supported_ones() {
    let (err, _) = serve_failing_on("mysql://user:secret@localhost/x");
    assert!(err.contains("unsupported database URL scheme 'mysql://'"), "{err}");
    assert!(err.contains("postgres://") && err.contains("sqlite://"), "{err}");
    assert!(!err.contains("SQLite") && !err.contains("secret"), "{err}");
}

/// Starts `demo`, reads the admin token it prints, and kills it.
fn demo_token(data: &DataDir) -> String {
    let mut child = data
        .command(&["demo", "--http", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning demo");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let token = lines
        .map_while(Result::ok)
        .find_map(|line| line.contains("admin API token").then(|| line.rsplit(' ').next().unwrap().to_string()));
    let _ = child.kill();
    let _ = child.wait();
    token.expect("demo printed no admin API token")
}

#[tokio::test]
async fn demo_reuses_its_console_token_across_restarts() {
    let data = DataDir::new("demo-token", None);
    let first = demo_token(&data);
    let second = demo_token(&data);
    assert_eq!(first, second);
    assert_eq!(mode(&data.dir.join("demo-token")), 0o600);
    use sqlx::Connection;
    let url = format!("sqlite:{}", data.dir.join("switchboard.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tokens WHERE name = 'demo console'").fetch_one(&mut db).await.unwrap();
    assert_eq!(rows, 1);
}
