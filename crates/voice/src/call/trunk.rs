//! Who may call a number: its trunk's allowed sources, or a carrier that
//! answers our digest challenge with the trunk's credentials (a `407` with
//! `Proxy-Authenticate`, as Asterisk challenges a peer); anyone else gets
//! `403`. A number without either takes calls from anyone.

use super::Call;
use crate::registrar::DigestAnswer;
use switchboard_service::endpoints::Endpoint;
use switchboard_service::sip_accounts::{SIP_REALM, md5_hex};

impl Call {
    /// Whether the INVITE may come in on `endpoint`'s trunk; when not, its
    /// final answer (403, 407 or 500) has been sent.
    pub(super) async fn admitted(&self, endpoint: &Endpoint) -> bool {
        let trunk = match self.agent.service.trunk(endpoint.id).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(endpoint = endpoint.id.0, error = %e, "the number's trunk cannot be read");
                self.finish(500).await;
                return false;
            }
        };
        if trunk.admits(self.peer.addr.ip()) {
            return true;
        }
        let Some(auth) = &trunk.auth else {
            tracing::info!(peer = %self.peer, endpoint = endpoint.id.0, "INVITE refused: not from the trunk's sources");
            self.finish(403).await;
            return false;
        };
        let registrar = &self.agent.registrar;
        let answer = self.invite.header("proxy-authorization").and_then(DigestAnswer::parse);
        let stale = match answer {
            Some(a) if a.realm == SIP_REALM && registrar.nonce_fresh(&a.nonce) => {
                let ha1 = md5_hex(&format!("{}:{SIP_REALM}:{}", auth.username, auth.password));
                if a.username == auth.username && a.expected(&ha1, "INVITE") == a.response {
                    return true;
                }
                // The username is what the peer sent; never a hash or the password.
                tracing::info!(peer = %self.peer, username = a.username, "INVITE refused: wrong trunk credentials");
                self.finish(403).await;
                return false;
            }
            Some(a) => a.realm == SIP_REALM,
            None => false,
        };
        self.finish_with(407, &[("Proxy-Authenticate", registrar.challenge(stale))]).await;
        false
    }
}
