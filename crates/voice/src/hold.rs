//! Music on hold, generated rather than shipped (no recording to license):
//! a slow arpeggio of soft sine tones with a fade on each note, which G.711
//! carries without the harshness of a square wave.

use crate::prompt::Prompt;
use crate::session::MediaSession;
use std::sync::OnceLock;
use tokio::time::Instant;

const RATE: f64 = 8000.0;
/// A major chord's notes in Hz, rising, then the fifth back down.
const NOTES: [f64; 4] = [440.0, 554.37, 659.25, 554.37];
const NOTE_SECONDS: f64 = 0.6;
/// About -18 dBFS: audible, never clipping.
const AMPLITUDE: f64 = 4000.0;
/// Samples in a 20 ms frame: the music resumes on a frame's edge.
const FRAME: usize = 160;

/// One loop of the hold music (2.4 s); played again when it ends. Made
/// once: every caller on hold shares the same samples.
pub fn hold_music() -> Prompt {
    static MUSIC: OnceLock<Prompt> = OnceLock::new();
    MUSIC.get_or_init(compose).clone()
}

/// One listener's place in the hold music (the caller's, or the agent's
/// while the caller is held): the music goes on where it stopped when it
/// comes back after an announcement or a hold, as a radio would, rather
/// than from its first note each time.
#[derive(Debug, Default)]
pub(crate) struct MusicOnHold {
    /// Where the music starts next, in samples (whole 20 ms frames).
    offset: usize,
    /// Playing since then, from `offset`.
    since: Option<Instant>,
}

impl MusicOnHold {
    /// Plays the music on `session` from where it last stopped.
    pub(crate) fn play(&mut self, session: &MediaSession) {
        self.pause();
        let music = hold_music();
        let rest = if self.offset == 0 { music } else { Prompt::from_samples(music.samples()[self.offset..].to_vec()) };
        session.play(rest);
        self.since = Some(Instant::now());
    }

    /// Something else plays on the session now, or nothing: remember where the music is.
    pub(crate) fn pause(&mut self) {
        if let Some(since) = self.since.take() {
            let frames = since.elapsed().as_millis() as usize / 20;
            let length = hold_music().samples().len();
            self.offset = (self.offset + frames * FRAME) % length;
        }
    }

    /// A prompt ended on the session: the music plays again, from its start
    /// when it was the music that ended (a loop is over), else where it stopped.
    pub(crate) fn prompt_done(&mut self, session: &MediaSession) {
        if self.since.take().is_some() {
            self.offset = 0;
        }
        self.play(session);
    }
}

fn compose() -> Prompt {
    let per_note = (RATE * NOTE_SECONDS) as usize;
    let mut samples = Vec::with_capacity(per_note * NOTES.len());
    for freq in NOTES {
        for i in 0..per_note {
            let t = i as f64 / RATE;
            // Rise over 30 ms and decay over the note, so notes do not click.
            let envelope = (t / 0.03).min(1.0) * (1.0 - i as f64 / per_note as f64).powf(0.5);
            let wave =
                (2.0 * std::f64::consts::PI * freq * t).sin() + 0.3 * (4.0 * std::f64::consts::PI * freq * t).sin();
            samples.push((AMPLITUDE * envelope * wave / 1.3) as i16);
        }
    }
    Prompt::from_samples(samples)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_loop_is_sound_not_silence() {
        let p = super::hold_music();
        assert_eq!(p.samples().len(), 19_200);
        let energy = p.samples().iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / 19_200.0;
        assert!(energy.sqrt() > 1000.0, "rms {}", energy.sqrt());
    }

    #[test]
    fn every_caller_shares_one_loop() {
        assert_eq!(super::hold_music().samples().as_ptr(), super::hold_music().samples().as_ptr());
    }
}
