//! Credentials at rest: the key that seals them and the sealing itself.
//!
//! Endpoints keep their channel's credentials (API tokens, passwords) in
//! the database sealed with XChaCha20-Poly1305 under one installation key,
//! so that a copy of the database (a backup, a dump) gives none of them
//! away. The nonce is random: XChaCha's 24 bytes make a collision
//! negligible however many times a secret is rewritten. What is sealed is
//! bound to what it belongs to (the associated data), so a sealed blob
//! copied to another endpoint's row does not open there.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;

/// A sealed blob starts with this byte: the format, so that another can
/// follow without guessing.
const VERSION: u8 = 1;
const NONCE: usize = 24;

/// The installation's key for credentials: 32 bytes, written as 64 hex
/// digits (`SWITCHBOARD_SECRET_KEY`, config `secret_key`, or the key file
/// the server creates in its data directory).
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("a secret key is 64 hexadecimal digits (32 bytes)")]
    BadKey,
    /// Wrong key, a damaged blob, or one sealed for something else.
    #[error("the sealed credentials do not open with this secret key")]
    Unreadable,
}

impl SecretKey {
    /// A new random key.
    pub fn generate() -> SecretKey {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the OS has randomness");
        SecretKey(key)
    }

    /// Reads 64 hex digits (surrounding white space ignored).
    pub fn parse(text: &str) -> Result<SecretKey, SecretError> {
        let text = text.trim().as_bytes();
        if text.len() != 64 {
            return Err(SecretError::BadKey);
        }
        let mut key = [0u8; 32];
        for (byte, pair) in key.iter_mut().zip(text.chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| SecretError::BadKey)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| SecretError::BadKey)?;
        }
        Ok(SecretKey(key))
    }

    /// The key as [`SecretKey::parse`] reads it: for writing the key file.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `plain` sealed, bound to `context`.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).expect("the OS has randomness");
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: context })
            .expect("sealing in memory does not fail");
        let mut out = Vec::with_capacity(1 + NONCE + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// What [`SecretKey::seal`] sealed with this key and `context`.
    pub fn open(&self, blob: &[u8], context: &[u8]) -> Result<Vec<u8>, SecretError> {
        let [VERSION, rest @ ..] = blob else { return Err(SecretError::Unreadable) };
        if rest.len() < NONCE {
            return Err(SecretError::Unreadable);
        }
        let (nonce, sealed) = rest.split_at(NONCE);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: context })
            .map_err(|_| SecretError::Unreadable)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

// Never printed, whatever logs it.
impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_context() {
        let key = SecretKey::generate();
        let blob = key.seal(b"hunter2-token", b"endpoint 1");
        assert!(!blob.windows(7).any(|w| w == b"hunter2"), "nothing in clear");
        assert_eq!(key.open(&blob, b"endpoint 1").unwrap(), b"hunter2-token");
        assert_ne!(key.seal(b"hunter2-token", b"endpoint 1"), blob, "a fresh nonce each time");
        assert!(key.open(&blob, b"endpoint 2").is_err(), "bound to its context");
        assert!(SecretKey::generate().open(&blob, b"endpoint 1").is_err(), "another key");
        let mut damaged = blob.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(key.open(&damaged, b"endpoint 1").is_err());
        assert!(key.open(&[], b"endpoint 1").is_err());
        assert!(key.open(&[VERSION, 0, 0], b"endpoint 1").is_err());
    }

    #[test]
    fn keys_are_64_hex_digits_and_never_shown() {
        let key = SecretKey::generate();
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        let again = SecretKey::parse(&format!(" {hex}\n")).unwrap();
        assert_eq!(again.open(&key.seal(b"x", b""), b"").unwrap(), b"x");
        for bad in ["", "abc", &"g".repeat(64), &"é".repeat(32), &"0".repeat(66)] {
            assert!(SecretKey::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{key:?}").contains(&hex[..8]));
    }
}
