//! Customer session tokens: `CONTACT.SIGNATURE`, where the signature is an
//! HMAC-SHA256 (first 16 bytes, hex) of the workspace and contact under the
//! workspace's chat secret. Stateless: nothing to look up, nothing to leak
//! from the database, and a token opens only its own conversation.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use switchboard_core::ids::{ContactId, WorkspaceId};

type HmacSha256 = Hmac<Sha256>;

const SIGNATURE_BYTES: usize = 16;

fn mac(secret: &str, ws: WorkspaceId, contact: ContactId) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("chat:{}:{}", ws.0, contact.0).as_bytes());
    mac
}

pub(super) fn issue(secret: &str, ws: WorkspaceId, contact: ContactId) -> String {
    let sig = mac(secret, ws, contact).finalize().into_bytes();
    let hex: String = sig[..SIGNATURE_BYTES].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}.{hex}", contact.0)
}

/// The contact a token opens, if it is genuine.
pub(super) fn verify(secret: &str, ws: WorkspaceId, token: &str) -> Option<ContactId> {
    let (contact, hex) = token.split_once('.')?;
    let contact = ContactId(contact.parse().ok()?);
    if hex.len() != SIGNATURE_BYTES * 2 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    // Constant time: the library compares the truncated tag.
    mac(secret, ws, contact).verify_truncated_left(&bytes?).ok()?;
    Some(contact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_their_own_conversation() {
        let (ws, c) = (WorkspaceId(1), ContactId(42));
        let t = issue("secret", ws, c);
        assert_eq!(verify("secret", ws, &t), Some(c));
        assert_eq!(verify("other", ws, &t), None);
        assert_eq!(verify("secret", WorkspaceId(2), &t), None);
        let forged = t.replacen("42.", "43.", 1);
        assert_eq!(verify("secret", ws, &forged), None);
        for bad in ["", ".", "42", "42.zz", "x.00", "42.00", "42.é€"] {
            assert_eq!(verify("secret", ws, bad), None, "{bad}");
        }
    }
}
