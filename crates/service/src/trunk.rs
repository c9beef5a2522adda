//! A voice number's SIP trunk: the carrier or PBX its calls come from and
//! through which we call out (a courtesy callback, later a transfer to an
//! outside number), as Asterisk's trunk peers or Amazon Connect's carrier
//! numbers are.
//!
//! It is kept in the voice endpoint's settings, beside its number, since a
//! carrier hands us a number on a trunk: the keys below are checked when
//! the endpoint is written, and `trunk_password` is a credential like any
//! other (sealed at rest, write-only, never logged).
//!
//! | key | what |
//! |---|---|
//! | `trunk_host`, `trunk_port` | where outbound INVITEs go (port 5060 when left out) |
//! | `trunk_username`, `trunk_password` | digest credentials: ours when the carrier challenges our INVITE, and what we challenge the carrier's INVITEs with |
//! | `allowed_sources` | addresses (CIDR) whose INVITEs to this number are taken without a challenge |
//! | `caller_id` | the number we present (From, P-Asserted-Identity); the endpoint's own number when left out |
//! | `number_format` | `"e164"` (`+441632960000`) or `"national"`: the country's numbers with `national_prefix` (`01632960000`), others with `international_prefix` and the country code (`0015550100`) |
//! | `country_code`, `national_prefix`, `international_prefix` | for `national`: the trunk's country (`"44"`), `"0"` and `"00"` by default |
//!
//! A number with neither `allowed_sources` nor trunk credentials takes
//! INVITEs from anyone (a softphone, a test); once either is set, an INVITE
//! from elsewhere is challenged (credentials) or refused (403).

use super::{Service, ServiceError};
use crate::customers::normalize_identity;
use ipnet::IpNet;
use serde_json::{Map, Value};
use std::fmt;
use std::net::IpAddr;
use switchboard_core::ids::EndpointId;
use switchboard_store::IdentityKind;

/// The settings key of the trunk's password (a credential: sealed, write-only).
pub const TRUNK_PASSWORD: &str = "trunk_password";
const DEFAULT_PORT: u16 = 5060;

/// How numbers are written in the Request-URI the carrier receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberFormat {
    /// `+` and the full international number.
    E164,
    /// As dialled inside `country_code`'s country.
    National { country_code: String, national_prefix: String, international_prefix: String },
}

impl NumberFormat {
    /// `e164` (`+` then digits) as this trunk wants it dialled.
    pub fn dial(&self, e164: &str) -> String {
        let digits = e164.strip_prefix('+').unwrap_or(e164);
        match self {
            NumberFormat::E164 => format!("+{digits}"),
            NumberFormat::National { country_code, national_prefix, international_prefix } => {
                match digits.strip_prefix(country_code.as_str()) {
                    Some(national) => format!("{national_prefix}{national}"),
                    None => format!("{international_prefix}{digits}"),
                }
            }
        }
    }
}

impl NumberFormat {
    /// A number keyed on a phone's keypad, in E.164: for a national trunk,
    /// after the international prefix it is international, after the
    /// national prefix (or without either) it is the trunk's country's; for
    /// an E.164 trunk the digits are the whole international number.
    /// `None` when that is not 7 to 15 digits.
    pub fn read(&self, keyed: &str) -> Option<String> {
        if keyed.is_empty() || !keyed.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = match self {
            NumberFormat::E164 => keyed.to_string(),
            NumberFormat::National { country_code, national_prefix, international_prefix } => {
                match keyed.strip_prefix(international_prefix.as_str()) {
                    Some(international) => international.to_string(),
                    None => format!("{country_code}{}", keyed.strip_prefix(national_prefix.as_str()).unwrap_or(keyed)),
                }
            }
        };
        (7..=15).contains(&digits.len()).then(|| format!("+{digits}"))
    }
}

/// Digest credentials of a trunk. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct TrunkAuth {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for TrunkAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrunkAuth").field("username", &self.username).finish_non_exhaustive()
    }
}

/// A voice number's trunk, read from its endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trunk {
    /// Where outbound calls go; `None`: this number cannot call out.
    pub host: Option<String>,
    pub port: u16,
    pub auth: Option<TrunkAuth>,
    pub allowed_sources: Vec<IpNet>,
    /// The number we present, in E.164.
    pub caller_id: Option<String>,
    pub format: NumberFormat,
}

impl Trunk {
    /// Whether INVITEs to the number are checked at all.
    pub fn guards_inbound(&self) -> bool {
        !self.allowed_sources.is_empty() || self.auth.is_some()
    }

    /// Whether an INVITE from `ip` is taken without a challenge.
    pub fn admits(&self, ip: IpAddr) -> bool {
        !self.guards_inbound() || self.allowed_sources.iter().any(|net| net.contains(&ip))
    }
}

fn text<'a>(settings: &'a Map<String, Value>, key: &'static str) -> Result<Option<&'a str>, ServiceError> {
    match settings.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(ServiceError::invalid(key, "must be a string")),
    }
}

/// A string setting that may be empty (a national prefix some countries do not have), else `default`.
fn text_or<'a>(settings: &'a Map<String, Value>, key: &'static str, default: &'a str) -> Result<&'a str, ServiceError> {
    match settings.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => Ok(s.trim()),
        Some(_) => Err(ServiceError::invalid(key, "must be a string")),
    }
}

/// A host name or address a SIP URI may carry: letters, digits, `.`, `-`, or an IP address.
fn host(value: &str) -> Result<String, ServiceError> {
    let ok = value.parse::<IpAddr>().is_ok()
        || (value.len() <= 253
            && value.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }));
    if ok {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(ServiceError::invalid("trunk_host", format!("'{value}' is not a host name or IP address")))
    }
}

fn digits(key: &'static str, value: &str, max: usize, may_be_empty: bool) -> Result<String, ServiceError> {
    if (may_be_empty || !value.is_empty()) && value.len() <= max && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_string())
    } else {
        Err(ServiceError::invalid(key, format!("{} digits at most, got '{value}'", max)))
    }
}

impl Trunk {
    /// The trunk in a voice endpoint's settings (its shown part) and its
    /// password; every problem is an `Invalid` naming the key.
    pub fn from_settings(settings: &Map<String, Value>, password: Option<&str>) -> Result<Trunk, ServiceError> {
        let host = text(settings, "trunk_host")?.map(host).transpose()?;
        let port = match settings.get("trunk_port") {
            None | Some(Value::Null) => DEFAULT_PORT,
            Some(v) => v
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| ServiceError::invalid("trunk_port", "a port from 1 to 65535"))?,
        };
        let username = text(settings, "trunk_username")?;
        if username.is_some_and(|u| u.chars().any(|c| c.is_control() || c == '"' || c == '\\') || u.len() > 128) {
            return Err(ServiceError::invalid(
                "trunk_username",
                "up to 128 characters, no quotes, backslashes or control characters",
            ));
        }
        let auth = match (username, password) {
            (Some(u), Some(p)) => Some(TrunkAuth { username: u.to_string(), password: p.to_string() }),
            (Some(_), None) => return Err(ServiceError::invalid(TRUNK_PASSWORD, "a trunk username needs a password")),
            (None, Some(_)) => {
                return Err(ServiceError::invalid("trunk_username", "a trunk password needs a username"));
            }
            (None, None) => None,
        };
        let allowed_sources = match settings.get("allowed_sources") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    let s = item.as_str().unwrap_or_default().trim();
                    s.parse::<IpNet>().or_else(|_| s.parse::<IpAddr>().map(IpNet::from)).map(|net| net.trunc()).map_err(
                        |_| ServiceError::invalid("allowed_sources", format!("'{s}' is not an address or CIDR block")),
                    )
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(ServiceError::invalid("allowed_sources", "a list of addresses or CIDR blocks")),
        };
        let caller_id = text(settings, "caller_id")?
            .map(|c| normalize_identity(IdentityKind::Phone, c, "caller_id"))
            .transpose()?;
        let format = match text(settings, "number_format")? {
            None | Some("e164") => NumberFormat::E164,
            Some("national") => {
                let country = text(settings, "country_code")?
                    .ok_or_else(|| ServiceError::invalid("country_code", "the trunk's country code, e.g. \"44\""))?;
                NumberFormat::National {
                    country_code: digits("country_code", country, 3, false)?,
                    national_prefix: digits("national_prefix", text_or(settings, "national_prefix", "0")?, 4, true)?,
                    international_prefix: digits(
                        "international_prefix",
                        text_or(settings, "international_prefix", "00")?,
                        4,
                        false,
                    )?,
                }
            }
            Some(other) => {
                return Err(ServiceError::invalid("number_format", format!("\"e164\" or \"national\", got '{other}'")));
            }
        };
        Ok(Trunk { host, port, auth, allowed_sources, caller_id, format })
    }
}

impl Service {
    /// The trunk of a voice number, with its password in clear. For the
    /// voice channel only: never answer, log or store what this gives.
    pub async fn trunk(&self, endpoint: EndpointId) -> Result<Trunk, ServiceError> {
        let e = self
            .endpoint_by_id(endpoint)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("endpoint {}", endpoint.0)))?;
        let credentials = self.endpoint_credentials(endpoint).await?;
        let settings = e.settings.as_object().cloned().unwrap_or_default();
        Trunk::from_settings(&settings, credentials.get(TRUNK_PASSWORD))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn trunk(v: Value, password: Option<&str>) -> Result<Trunk, ServiceError> {
        Trunk::from_settings(v.as_object().unwrap(), password)
    }

    fn field(r: Result<Trunk, ServiceError>) -> String {
        match r {
            Err(ServiceError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn an_endpoint_without_trunk_keys_takes_calls_from_anyone_and_cannot_call_out() {
        let t = trunk(json!({}), None).unwrap();
        assert_eq!((t.host.as_deref(), t.port, t.guards_inbound()), (None, 5060, false));
        assert!(t.admits("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn sources_are_cidr_blocks_or_addresses() {
        let t = trunk(json!({ "allowed_sources": ["192.0.2.0/24", "2001:db8::1", "198.51.100.7/16"] }), None).unwrap();
        assert!(t.admits("192.0.2.200".parse().unwrap()));
        assert!(t.admits("2001:db8::1".parse().unwrap()));
        assert!(!t.admits("2001:db8::2".parse().unwrap()));
        assert!(t.admits("198.51.3.4".parse().unwrap()), "a block is taken from its address's prefix");
        assert!(!t.admits("203.0.113.9".parse().unwrap()));
        assert_eq!(field(trunk(json!({ "allowed_sources": ["10.0.0.0/33"] }), None)), "allowed_sources");
        assert_eq!(field(trunk(json!({ "allowed_sources": "10.0.0.0/8" }), None)), "allowed_sources");
    }

    #[test]
    fn credentials_come_in_pairs_and_never_show() {
        let t = trunk(json!({ "trunk_username": "acme" }), Some("s3cret-pass")).unwrap();
        assert!(t.guards_inbound());
        assert!(!format!("{t:?}").contains("s3cret"));
        assert_eq!(field(trunk(json!({ "trunk_username": "acme" }), None)), TRUNK_PASSWORD);
        assert_eq!(field(trunk(json!({}), Some("x"))), "trunk_username");
        assert_eq!(field(trunk(json!({ "trunk_username": "a\"b" }), Some("x"))), "trunk_username");
    }

    #[test]
    fn hosts_ports_and_caller_ids_are_checked() {
        let t = trunk(
            json!({ "trunk_host": "SIP.Carrier.example", "trunk_port": 5080, "caller_id": "+1 555 000 1000" }),
            None,
        )
        .unwrap();
        assert_eq!(
            (t.host.as_deref(), t.port, t.caller_id.as_deref()),
            (Some("sip.carrier.example"), 5080, Some("+15550001000"))
        );
        assert_eq!(field(trunk(json!({ "trunk_host": "a b" }), None)), "trunk_host");
        assert_eq!(field(trunk(json!({ "trunk_host": "x", "trunk_port": 70000 }), None)), "trunk_port");
        assert_eq!(field(trunk(json!({ "caller_id": "call me" }), None)), "caller_id");
        assert_eq!(field(trunk(json!({ "number_format": "local" }), None)), "number_format");
        assert_eq!(field(trunk(json!({ "number_format": "national" }), None)), "country_code");
    }

    #[test]
    fn numbers_are_dialled_in_the_trunks_format() {
        assert_eq!(NumberFormat::E164.dial("+15550100"), "+15550100");
        let uk = trunk(json!({ "number_format": "national", "country_code": "44" }), None).unwrap().format;
        assert_eq!(uk.dial("+441632960000"), "01632960000");
        assert_eq!(uk.dial("+15550100123"), "0015550100123");
        let us = trunk(
            json!({ "number_format": "national", "country_code": "1", "national_prefix": "", "international_prefix": "011" }),
            None,
        )
        .unwrap()
        .format;
        assert_eq!(us.dial("+15550100123"), "5550100123");
        assert_eq!(us.dial("+441632960000"), "011441632960000");
    }

    #[test]
    fn keyed_numbers_are_read_in_the_trunks_format() {
        assert_eq!(NumberFormat::E164.read("15550100123").as_deref(), Some("+15550100123"));
        assert_eq!(NumberFormat::E164.read("123"), None);
        assert_eq!(NumberFormat::E164.read("12a4567"), None);
        let uk = NumberFormat::National {
            country_code: "44".into(),
            national_prefix: "0".into(),
            international_prefix: "00".into(),
        };
        assert_eq!(uk.read("01632960000").as_deref(), Some("+441632960000"));
        assert_eq!(uk.read("0015550100123").as_deref(), Some("+15550100123"));
        assert_eq!(uk.read("").as_deref(), None);
    }

    proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 2_000, failure_persistence: None, ..Default::default() })]
        // Whatever an admin types, reading the settings never panics; a national number keeps its digits.
        #[test]
        fn any_settings_are_read_without_panic(host in ".{0,40}", port in any::<i64>(), cidr in ".{0,30}", fmt in ".{0,10}", cc in ".{0,5}") {
            let _ = trunk(json!({ "trunk_host": host, "trunk_port": port, "allowed_sources": [cidr], "number_format": fmt, "country_code": cc }), None);
        }

        // What we dial reads back as the number it was, at home and abroad.
        #[test]
        fn a_dialled_number_reads_back(cc in "[1-9][0-9]{0,2}", home in "[1-9][0-9]{5,10}", abroad in "[1-9][0-9]{6,14}") {
            let f = NumberFormat::National { country_code: cc.clone(), national_prefix: "0".into(), international_prefix: "00".into() };
            let ours = format!("+{cc}{home}");
            prop_assert_eq!(f.read(&f.dial(&ours)), Some(ours.clone()));
            prop_assert_eq!(NumberFormat::E164.read(&NumberFormat::E164.dial(&ours)[1..]), Some(ours));
            let other = format!("+{abroad}");
            if !abroad.starts_with(&cc) {
                prop_assert_eq!(f.read(&f.dial(&other)), Some(other));
            }
        }

        #[test]
        fn national_dialling_keeps_the_subscriber_digits(cc in "[1-9][0-9]{0,2}", rest in "[0-9]{6,12}") {
            let f = NumberFormat::National { country_code: cc.clone(), national_prefix: "0".into(), international_prefix: "00".into() };
            let dialled = f.dial(&format!("+{cc}{rest}"));
            prop_assert_eq!(dialled, format!("0{rest}"));
        }
    }
}
