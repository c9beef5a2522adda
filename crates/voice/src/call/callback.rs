//! A waiting caller asks for a courtesy callback: the queue's callback key
//! (offered in the waiting prompt, "press 1 to be called back"), then the
//! number — the one they call from, confirmed with `#`, or another keyed
//! and ended with `#` — and a confirmation before we hang up. The contact
//! keeps its place in line as a callback (`Service::request_callback`);
//! [`crate::callback`] calls the customer back when an agent takes it.

use super::{Call, Gone};
use crate::sip::message::uri_user;
use std::time::Duration;
use switchboard_core::ids::{ContactId, WorkspaceId};
use switchboard_service::trunk::NumberFormat;

/// How long the caller has to key the number, after the question and between keys.
const NUMBER_WAIT: Duration = Duration::from_secs(10);
const ASK_NUMBER: &str =
    "Please key the number we should call you back at, including the area code, followed by the pound key.";
const NOT_A_NUMBER: &str = "Sorry, that is not a number we can call.";
const STAY: &str = "Sorry, we cannot arrange a callback right now. Please stay on the line.";

/// The waiting prompt, with the callback offer when the queue has a key for it.
pub(super) fn waiting_prompt(waiting: &str, key: Option<char>) -> String {
    match key {
        Some(k) => {
            format!("{waiting} To be called back instead, without losing your place in line, press {}.", spoken_key(k))
        }
        None => waiting.to_string(),
    }
}

fn spoken_key(k: char) -> String {
    match k {
        '*' => "star".into(),
        '#' => "pound".into(),
        k => k.to_string(),
    }
}

/// A number said digit by digit ("5 5 5 0 1 0 0"), as speech engines read a phone number poorly.
pub(crate) fn spoken_number(e164: &str) -> String {
    let digits: Vec<String> = e164.chars().filter(char::is_ascii_digit).map(String::from).collect();
    digits.join(" ")
}

impl Call {
    /// Asks for the number and keeps the contact as a callback. True once
    /// it is one (the caller heard so and was hung up on); false to go back
    /// to waiting (an agent's phone rings for them already); `Gone` when the
    /// caller hung up before it was arranged.
    pub(super) async fn ask_for_callback(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<bool, Gone> {
        if let Some((session, _)) = &self.media {
            session.hush();
        }
        let format = self.number_format().await;
        let calling = self.invite.header("from").and_then(uri_user).and_then(super::e164);
        let mut tries = 0;
        let number = loop {
            tries += 1;
            let question = match &calling {
                Some(n) => format!(
                    "We will call you back at {}. To confirm, press the pound key. To be called back at another number, key it now, followed by the pound key.",
                    spoken_number(n)
                ),
                None => ASK_NUMBER.to_string(),
            };
            let early = self.say(&question).await?;
            let keyed = self.digits(early, 20, "#", NUMBER_WAIT).await?;
            let number = match (keyed.is_empty(), &calling) {
                (true, Some(n)) => Some(n.clone()),
                (true, None) => None,
                (false, _) => format.read(&keyed),
            };
            match number {
                Some(n) => break n,
                None if tries < 3 => {
                    self.say(NOT_A_NUMBER).await?;
                }
                None => {
                    self.say(STAY).await?;
                    return Ok(false);
                }
            }
        };
        match self.agent.service.request_callback(ws, contact, &number).await {
            Ok(number) => {
                tracing::info!(contact = contact.0, "the caller asked to be called back");
                // The contact is no longer this call's: its offers are the callback's to follow.
                self.agent.contacts.lock().expect("contacts lock").remove(&contact);
                self.contact = None;
                let thanks = format!(
                    "Thank you. We will call you back at {} when it is your turn. Goodbye.",
                    spoken_number(&number)
                );
                if self.say(&thanks).await.is_ok() {
                    self.bye().await;
                }
                Ok(true)
            }
            Err(e) => {
                tracing::info!(contact = contact.0, error = %e, "no callback for this caller now");
                self.say(STAY).await?;
                Ok(false)
            }
        }
    }

    /// How the number's trunk writes numbers: keyed digits are read that way.
    async fn number_format(&self) -> NumberFormat {
        let endpoint = match self.endpoint().await {
            Ok(Some(e)) => e,
            _ => return NumberFormat::E164,
        };
        self.agent.service.trunk(endpoint.id).await.map_or(NumberFormat::E164, |t| t.format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waiting_prompt_offers_the_callback_key() {
        assert_eq!(waiting_prompt("Hold on.", None), "Hold on.");
        assert!(waiting_prompt("Hold on.", Some('1')).ends_with("press 1."));
        assert!(waiting_prompt("Hold on.", Some('*')).ends_with("press star."));
        assert_eq!(spoken_number("+15550100"), "1 5 5 5 0 1 0 0");
    }
}
