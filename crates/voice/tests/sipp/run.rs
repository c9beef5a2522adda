//! sipp, run by the voice tests. It is killed when the test lets it go: a
//! test that fails while sipp waits for a BYE must end, not wait for it
//! (sipp 3.6's `-timeout` does not stop a call that is waiting), and a
//! run is cut at `LIMIT` whatever happens.

use std::time::Duration;

/// Longer than any scenario's call, shorter than a stuck test is worth.
const LIMIT: Duration = Duration::from_secs(150);

/// Runs sipp with `args`: whether it succeeded, and what it printed.
pub fn sipp(args: Vec<String>) -> tokio::task::JoinHandle<(bool, String)> {
    tokio::spawn(async move {
        let run = tokio::process::Command::new("sipp")
            .args(&args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        match tokio::time::timeout(LIMIT, run).await {
            Ok(out) => {
                let out =
                    out.unwrap_or_else(|e| panic!("sipp is needed by these tests (scripts/test installs it): {e}"));
                let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
                (out.status.success(), text)
            }
            Err(_) => (false, format!("sipp was still running after {LIMIT:?} and was killed")),
        }
    })
}
