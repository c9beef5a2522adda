//! The service layer is shared by every edge (HTTP, SIP, SMTP, providers'
//! webhooks), so it must not pull an HTTP framework into a channel crate.

use std::process::Command;

#[test]
fn no_http_framework_in_the_dependency_tree() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "-p", "switchboard-service", "-e", "normal,build", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains(&"switchboard-store"), "the tree was read: {tree}");
    for framework in ["axum", "axum-core", "tower", "tower-http", "hyper", "hyper-util", "reqwest", "tungstenite"] {
        assert!(!crates.contains(&framework), "{framework} is in switchboard-service's dependencies:\n{tree}");
    }
}
