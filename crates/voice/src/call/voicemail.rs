//! Taking a caller's voicemail: the prompt, a beep, then the caller's audio
//! recorded as a mono WAV as it comes, until `#`, the caller hanging up,
//! five seconds of silence or the queue's longest message. The message
//! goes to the service, which puts the contact back in its queue as a
//! voicemail for an agent; a caller who said nothing has abandoned.

use super::{Call, CallEvent, Gone};
use crate::jitter::Frame;
use crate::prompt::Prompt;
use crate::recording::{Recorded, Recording};
use crate::session::{MediaEvent, PTIME};
use std::sync::OnceLock;
use std::time::Duration;
use switchboard_core::ids::{ContactId, WorkspaceId};
use tokio::time::{Instant, sleep_until};

const LEAVE_A_MESSAGE: &str =
    "Please leave a message after the tone. When you are done, press the pound key, or hang up.";
const MESSAGE_TAKEN: &str = "Thank you. Your message has been recorded and an agent will get back to you. Goodbye.";
const NO_MESSAGE: &str = "Sorry, we cannot take your message right now. Please call again later. Goodbye.";
/// The quiet that ends a message once the caller stops speaking.
const SILENCE_ENDS: Duration = Duration::from_secs(5);
/// A message with less speech than this is no message (a caller who hangs up at once).
const LEAST_SPEECH: Duration = Duration::from_millis(500);
/// A frame whose RMS is above this is speech rather than line noise (about -42 dBFS).
const SPEECH_RMS: f64 = 250.0;

/// What ended the message.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// `#`, the silence after speech or the longest message: the caller is still there.
    Done,
    /// The caller hung up.
    HungUp,
}

impl Call {
    /// The caller leaves a message; the contact goes on as that voicemail
    /// (or, with nothing said, ends abandoned). Never ends the conversation
    /// otherwise: an agent is to handle it.
    pub(super) async fn voicemail(&mut self, ws: WorkspaceId, contact: ContactId) {
        let care = self.care(ws, contact).await;
        if let Some((session, _)) = &self.media {
            session.hush();
        }
        let prompt = Prompt::join(&[self.speech(LEAVE_A_MESSAGE).await, beep()]);
        let taken = match self.play(prompt).await {
            Ok(_) => match Recording::voicemail(&self.agent.config.data_dir, ws, contact) {
                Ok(r) => Some(self.record(r, care.voicemail_max).await),
                Err(e) => {
                    tracing::warn!(contact = contact.0, error = %e, "no voicemail can be recorded");
                    if self.say(NO_MESSAGE).await.is_ok() {
                        self.bye().await;
                    }
                    None
                }
            },
            Err(Gone) => None,
        };
        let service = self.agent.service.clone();
        let kept = match taken {
            Some((Ok(recorded), speech, stop)) if speech >= LEAST_SPEECH => {
                let path = recorded.name.to_string_lossy();
                let seconds = recorded.length.as_secs_f64();
                tracing::info!(contact = contact.0, seconds, "voicemail recorded");
                match service.voicemail_left(ws, contact, &path, seconds).await {
                    Ok(()) => {
                        if stop == Stop::Done && self.say(MESSAGE_TAKEN).await.is_ok() {
                            self.bye().await;
                        }
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(contact = contact.0, error = %e, "the voicemail was not queued");
                        Some(recorded)
                    }
                }
            }
            Some((Ok(recorded), _, stop)) => {
                if stop == Stop::Done {
                    self.hang_up().await;
                }
                Some(recorded)
            }
            Some((Err(e), _, _)) => {
                tracing::warn!(contact = contact.0, error = %e, "the voicemail could not be written");
                None
            }
            None => None,
        };
        // No message: its file goes, and the caller has abandoned the call.
        if let Some(Recorded { name, .. }) = kept {
            let _ = std::fs::remove_file(self.agent.config.data_dir.join(name));
        }
        if let Err(e) = service.voicemail_abandoned(ws, contact).await {
            tracing::warn!(contact = contact.0, error = %e, "the caller's empty voicemail was not recorded as abandoned");
        }
    }

    /// Records the caller until the message ends; the recording, how much
    /// of it was speech, and what ended it.
    async fn record(
        &mut self,
        mut recording: Recording,
        longest: Duration,
    ) -> (std::io::Result<Recorded>, Duration, Stop) {
        let mut clock = tokio::time::interval(PTIME);
        let until = Instant::now() + longest;
        let (mut speech, mut quiet) = (Duration::ZERO, Duration::ZERO);
        let stop = loop {
            let woke = {
                let Call { media, events, .. } = self;
                let Some((_, caller)) = media else { break Stop::HungUp };
                tokio::select! {
                    _ = clock.tick() => Woke::Tick,
                    m = caller.recv() => Woke::Media(m),
                    e = events.recv() => Woke::Call(e),
                    () = sleep_until(until) => break Stop::Done,
                }
            };
            match woke {
                Woke::Tick => {
                    if let Err(e) = recording.tick() {
                        tracing::warn!(error = %e, "the voicemail stopped recording");
                        break Stop::Done;
                    }
                    quiet += PTIME;
                    if quiet >= SILENCE_ENDS && speech > Duration::ZERO {
                        break Stop::Done;
                    }
                }
                Woke::Media(Some(MediaEvent::Audio(frame))) => {
                    recording.caller(&frame);
                    if rms(&frame) > SPEECH_RMS {
                        speech += PTIME;
                        quiet = Duration::ZERO;
                    }
                }
                Woke::Media(Some(MediaEvent::Digit(d))) if d.as_char() == '#' => break Stop::Done,
                Woke::Media(Some(_)) => {}
                Woke::Media(None) | Woke::Call(None | Some(CallEvent::Bye | CallEvent::Cancel)) => break Stop::HungUp,
                // `#` by SIP INFO ends the message as RFC 4733's does.
                Woke::Call(Some(CallEvent::Digit(d))) if d.as_char() == '#' => break Stop::Done,
                Woke::Call(Some(CallEvent::Reinvite(m, from))) => {
                    self.reinvite(&m, from).await;
                }
                // The contact's news (it left the line for this message) is not the caller's.
                Woke::Call(Some(_)) => {}
            }
        };
        (recording.finish(), speech, stop)
    }
}

/// What woke the recording's loop.
enum Woke {
    Tick,
    Media(Option<MediaEvent>),
    Call(Option<CallEvent>),
}

fn rms(frame: &Frame) -> f64 {
    let energy: f64 = frame.iter().map(|&s| f64::from(s).powi(2)).sum();
    (energy / frame.len() as f64).sqrt()
}

/// The tone after which the caller speaks: 1 kHz for half a second, made once.
fn beep() -> Prompt {
    static BEEP: OnceLock<Prompt> = OnceLock::new();
    BEEP.get_or_init(|| {
        let samples = (0..4000)
            .map(|i| {
                let t = f64::from(i) / 8000.0;
                // 10 ms ramps at both ends, so it does not click.
                let ramp = (t / 0.01).min((0.5 - t) / 0.01).clamp(0.0, 1.0);
                (8000.0 * ramp * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as i16
            })
            .collect();
        Prompt::from_samples(samples)
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_is_told_from_silence() {
        assert_eq!(rms(&[0; crate::jitter::FRAME_SAMPLES]), 0.0);
        assert!(rms(&[1000; crate::jitter::FRAME_SAMPLES]) > SPEECH_RMS);
        assert!(rms(&[-100; crate::jitter::FRAME_SAMPLES]) < SPEECH_RMS);
    }
}
