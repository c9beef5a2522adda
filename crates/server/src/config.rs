//! Configuration: a TOML file, then `SWITCHBOARD_*` environment overrides,
//! then command-line flags. Everything has a default, so no file is needed.

use crate::service::secrets::SecretKey;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the server listens.
    pub http: SocketAddr,
    /// Where the SQLite database and other files live.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; empty means SQLite in `data_dir`.
    pub database_url: String,
    /// Log as JSON lines instead of text.
    pub log_json: bool,
    /// How long a login session lasts, in hours.
    pub session_hours: u64,
    /// Serve the web UI from this directory instead of the embedded copy.
    pub assets_dir: Option<PathBuf>,
    /// Chat conversations one address may start per 10 minutes (0: no limit).
    pub chat_start_limit: u32,
    /// The reverse proxy (its address as the server sees it) whose
    /// `X-Forwarded-Proto` and `X-Forwarded-For` are believed.
    pub trusted_proxy: Option<IpAddr>,
    /// `/metrics` on the main listener answers only this bearer token.
    pub metrics_token: Option<String>,
    /// `/metrics` is (also) served here, without a token.
    pub metrics_listen: Option<SocketAddr>,
    /// The base URL the outside world reaches this server at (behind a
    /// proxy, the proxy's), used in providers' signatures and callbacks;
    /// by default `http://` and the address the server is bound to.
    pub public_url: Option<PublicUrl>,
    /// The key (64 hex digits) that seals endpoints' credentials in the
    /// database; by default one generated on first start and kept in
    /// `secret.key` (mode 0600) in the data directory. Never printed.
    pub secret_key: Option<SecretKey>,
}

/// An `http://` or `https://` base URL with a host, kept without a
/// trailing slash.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PublicUrl {
    type Error = String;
    fn try_from(url: String) -> Result<PublicUrl, String> {
        let trimmed = url.trim().trim_end_matches('/');
        let host = trimmed.strip_prefix("http://").or_else(|| trimmed.strip_prefix("https://"));
        match host {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !trimmed.contains(char::is_whitespace) => {
                Ok(PublicUrl(trimmed.to_string()))
            }
            _ => Err(format!("'{url}' is not an http:// or https:// URL with a host")),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            http: "127.0.0.1:8080".parse().expect("valid address"),
            data_dir: PathBuf::from("switchboard-data"),
            database_url: String::new(),
            log_json: false,
            session_hours: 12,
            assets_dir: None,
            chat_start_limit: crate::service::chat::limits::STARTS_PER_WINDOW,
            trusted_proxy: None,
            metrics_token: None,
            metrics_listen: None,
            public_url: None,
            secret_key: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("in {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
}

impl Config {
    /// The file (if given) with the environment applied on top.
    pub fn load(file: Option<&std::path::Path>) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Applies `SWITCHBOARD_HTTP`, `SWITCHBOARD_DATA_DIR`, `SWITCHBOARD_DATABASE_URL`,
    /// `SWITCHBOARD_LOG_JSON`, `SWITCHBOARD_SESSION_HOURS`, `SWITCHBOARD_ASSETS_DIR`,
    /// `SWITCHBOARD_CHAT_START_LIMIT`, `SWITCHBOARD_TRUSTED_PROXY`, `SWITCHBOARD_METRICS_TOKEN`,
    /// `SWITCHBOARD_METRICS_LISTEN`, `SWITCHBOARD_PUBLIC_URL` and `SWITCHBOARD_SECRET_KEY`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let bad = |name: &str, message: String| ConfigError::Env { name: name.into(), message };
        if let Some(v) = get("SWITCHBOARD_HTTP") {
            self.http = v.parse().map_err(|e| bad("SWITCHBOARD_HTTP", format!("'{v}' is not an address: {e}")))?;
        }
        if let Some(v) = get("SWITCHBOARD_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = get("SWITCHBOARD_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("SWITCHBOARD_LOG_JSON") {
            self.log_json = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("SWITCHBOARD_SESSION_HOURS") {
            self.session_hours = v.parse().map_err(|e| bad("SWITCHBOARD_SESSION_HOURS", format!("'{v}': {e}")))?;
        }
        if let Some(v) = get("SWITCHBOARD_ASSETS_DIR") {
            self.assets_dir = Some(v.into());
        }
        if let Some(v) = get("SWITCHBOARD_CHAT_START_LIMIT") {
            self.chat_start_limit =
                v.parse().map_err(|e| bad("SWITCHBOARD_CHAT_START_LIMIT", format!("'{v}': {e}")))?;
        }
        if let Some(v) = get("SWITCHBOARD_TRUSTED_PROXY") {
            let ip =
                v.parse().map_err(|e| bad("SWITCHBOARD_TRUSTED_PROXY", format!("'{v}' is not an IP address: {e}")))?;
            self.trusted_proxy = Some(ip);
        }
        if let Some(v) = get("SWITCHBOARD_METRICS_TOKEN") {
            self.metrics_token = Some(v).filter(|t| !t.is_empty());
        }
        if let Some(v) = get("SWITCHBOARD_METRICS_LISTEN") {
            let addr =
                v.parse().map_err(|e| bad("SWITCHBOARD_METRICS_LISTEN", format!("'{v}' is not an address: {e}")))?;
            self.metrics_listen = Some(addr);
        }
        if let Some(v) = get("SWITCHBOARD_PUBLIC_URL") {
            self.public_url = Some(PublicUrl::try_from(v).map_err(|m| bad("SWITCHBOARD_PUBLIC_URL", m))?);
        }
        if let Some(v) = get("SWITCHBOARD_SECRET_KEY") {
            // The value is not repeated in the error: it is the key.
            let key = SecretKey::parse(&v).map_err(|e| bad("SWITCHBOARD_SECRET_KEY", e.to_string()))?;
            self.secret_key = Some(key);
        }
        Ok(())
    }

    /// The database to open: the configured URL, or SQLite in the data directory.
    pub fn database(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("switchboard.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_file_and_environment() {
        let mut c = Config::default();
        assert_eq!(c.database(), "sqlite://switchboard-data/switchboard.db");
        c.apply_env(|n| match n {
            "SWITCHBOARD_HTTP" => Some("0.0.0.0:9000".into()),
            "SWITCHBOARD_DATABASE_URL" => Some("postgres://x@y/z".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.http.port(), 9000);
        assert_eq!(c.database(), "postgres://x@y/z");
        let err = c.apply_env(|n| (n == "SWITCHBOARD_HTTP").then(|| "nonsense".into())).unwrap_err();
        assert!(err.to_string().contains("SWITCHBOARD_HTTP"));
        let parsed: Config = toml::from_str("http = \"127.0.0.1:1\"\nsession_hours = 2\n").unwrap();
        assert_eq!(parsed.session_hours, 2);
        assert!(toml::from_str::<Config>("htp = 1").unwrap_err().to_string().contains("htp"));
    }

    #[test]
    fn public_url_and_secret_key_are_checked_and_the_key_never_shown() {
        let key = "ab".repeat(32);
        let mut c = Config::default();
        c.apply_env(|n| match n {
            "SWITCHBOARD_PUBLIC_URL" => Some("https://cc.example.com/".into()),
            "SWITCHBOARD_SECRET_KEY" => Some(key.clone()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.public_url.as_ref().map(PublicUrl::as_str), Some("https://cc.example.com"));
        assert_eq!(c.secret_key, Some(SecretKey::parse(&key).unwrap()));
        assert!(!format!("{c:?}").contains(&key), "Debug hides the key");
        for bad in ["ftp://x", "http://", "cc.example.com", "http:// x"] {
            let err = c.apply_env(|n| (n == "SWITCHBOARD_PUBLIC_URL").then(|| bad.into())).unwrap_err();
            assert!(err.to_string().contains("SWITCHBOARD_PUBLIC_URL"), "{bad}");
        }
        let err = c.apply_env(|n| (n == "SWITCHBOARD_SECRET_KEY").then(|| format!("{key}zz"))).unwrap_err();
        assert!(!err.to_string().contains(&key), "{err}");
        let parsed: Config =
            toml::from_str(&format!("public_url = \"http://10.0.0.1:8080\"\nsecret_key = \"{key}\"\n")).unwrap();
        assert_eq!(parsed.public_url.unwrap().as_str(), "http://10.0.0.1:8080");
        assert!(toml::from_str::<Config>("secret_key = \"short\"").is_err());
    }
}
