//! Recording a call: a bridged call as a stereo WAV, the caller on the left
//! and the agent on the right, from the answer to the hang-up; a caller's
//! voicemail as a mono WAV of the caller alone. 8 kHz 16-bit PCM.
//!
//! It is written as the call goes, one 20 ms frame per tick, and the
//! header's sizes are rewritten every second: a crash loses at most the
//! last second and leaves a file any player opens. Each side's frames wait
//! in a short queue for the tick (the two legs' clocks differ a little); a
//! side with nothing queued is silence for that frame. While the recording
//! is paused (an agent keeping card numbers out of it) the ticks write
//! silence, so the file's timings stay those of the call.

use crate::jitter::{FRAME_SAMPLES, Frame, SILENCE};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchboard_core::ids::{ContactId, WorkspaceId};

/// Frames written between two header fix-ups (one second).
const FIX_UP_EVERY: u32 = 50;
/// Frames a side may be ahead before its oldest gives way.
const QUEUE: usize = 10;
const HEADER: u32 = 44;
const RATE: u32 = 8000;

pub(crate) struct Recording {
    file: File,
    /// Relative to the data directory: what the event names.
    name: PathBuf,
    frames: u32,
    /// The caller's frames, then (in stereo) the agent's.
    sides: Vec<VecDeque<Frame>>,
    /// Since which frame the recording is paused.
    paused_at: Option<u32>,
    /// The paused spans so far, in frames.
    paused: Vec<(u32, u32)>,
}

/// A finished recording.
pub(crate) struct Recorded {
    /// Relative to the data directory.
    pub(crate) name: PathBuf,
    pub(crate) length: Duration,
    /// Where the recording was paused (silence), from its start.
    pub(crate) paused: Vec<(Duration, Duration)>,
}

impl Recording {
    /// A bridged call: `recordings/<workspace>/<contact>.wav`, stereo.
    pub(crate) fn call(data_dir: &Path, ws: WorkspaceId, contact: ContactId) -> std::io::Result<Recording> {
        Recording::create(data_dir, ws, format!("{}.wav", contact.0), 2)
    }

    /// A caller's voicemail: `recordings/<workspace>/<contact>-voicemail.wav`, mono.
    pub(crate) fn voicemail(data_dir: &Path, ws: WorkspaceId, contact: ContactId) -> std::io::Result<Recording> {
        Recording::create(data_dir, ws, format!("{}-voicemail.wav", contact.0), 1)
    }

    fn create(data_dir: &Path, ws: WorkspaceId, file: String, channels: u16) -> std::io::Result<Recording> {
        let name = PathBuf::from("recordings").join(ws.0.to_string()).join(file);
        let path = data_dir.join(&name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = File::create(&path)?;
        let sides = vec![VecDeque::new(); usize::from(channels)];
        file.write_all(&header(channels, 0))?;
        Ok(Recording { file, name, frames: 0, sides, paused_at: None, paused: Vec::new() })
    }

    pub(crate) fn caller(&mut self, frame: &Frame) {
        push(&mut self.sides[0], frame);
    }

    /// The agent's side; a mono recording has none.
    pub(crate) fn agent(&mut self, frame: &Frame) {
        if let Some(side) = self.sides.get_mut(1) {
            push(side, frame);
        }
    }

    /// Pauses (silence from the next frame on) or resumes the recording.
    pub(crate) fn pause(&mut self, pause: bool) {
        match (pause, self.paused_at) {
            (true, None) => self.paused_at = Some(self.frames),
            (false, Some(from)) => {
                self.paused.push((from, self.frames));
                self.paused_at = None;
            }
            _ => {}
        }
    }

    /// Writes the next 20 ms. The writes are small (640 bytes) and go to the
    /// page cache, so they are made in place rather than on a blocking thread.
    pub(crate) fn tick(&mut self) -> std::io::Result<()> {
        let paused = self.paused_at.is_some();
        let frames: Vec<Frame> =
            self.sides.iter_mut().map(|q| q.pop_front().filter(|_| !paused).unwrap_or(SILENCE)).collect();
        let mut bytes = Vec::with_capacity(FRAME_SAMPLES * 2 * frames.len());
        for i in 0..FRAME_SAMPLES {
            for f in &frames {
                bytes.extend_from_slice(&f[i].to_le_bytes());
            }
        }
        self.file.write_all(&bytes)?;
        self.frames += 1;
        if self.frames.is_multiple_of(FIX_UP_EVERY) {
            self.fix_up()?;
        }
        Ok(())
    }

    /// Closes the file with its final sizes.
    pub(crate) fn finish(mut self) -> std::io::Result<Recorded> {
        self.pause(false);
        self.fix_up()?;
        self.file.sync_all()?;
        let paused = self.paused.iter().map(|&(a, b)| (frames_to_time(a), frames_to_time(b))).collect();
        Ok(Recorded { name: self.name, length: frames_to_time(self.frames), paused })
    }

    /// Closes a call's recording and writes its `recording` event.
    pub(crate) async fn save(self, service: &switchboard_service::Service, ws: WorkspaceId, contact: ContactId) {
        match self.finish() {
            Ok(Recorded { name, length, paused }) => {
                let path = name.to_string_lossy();
                let paused: Vec<_> = paused.iter().map(|(a, b)| (a.as_secs_f64(), b.as_secs_f64())).collect();
                let saved = service.recording_saved(ws, contact, &path, length.as_secs_f64(), &paused);
                if let Err(e) = saved.await {
                    tracing::warn!(contact = contact.0, error = %e, "the recording's event was not written");
                }
            }
            Err(e) => tracing::warn!(contact = contact.0, error = %e, "the recording could not be closed"),
        }
    }

    fn fix_up(&mut self) -> std::io::Result<()> {
        let end = self.file.stream_position()?;
        self.file.seek(SeekFrom::Start(0))?;
        let channels = self.sides.len() as u16;
        self.file.write_all(&header(channels, self.frames * FRAME_SAMPLES as u32 * 2 * u32::from(channels)))?;
        self.file.seek(SeekFrom::Start(end))?;
        Ok(())
    }
}

fn frames_to_time(frames: u32) -> Duration {
    Duration::from_millis(u64::from(frames) * 20)
}

fn push(queue: &mut VecDeque<Frame>, frame: &Frame) {
    if queue.len() >= QUEUE {
        queue.pop_front();
    }
    queue.push_back(*frame);
}

/// The RIFF/WAVE header of `data` bytes of 8 kHz 16-bit PCM in `channels`.
fn header(channels: u16, data: u32) -> [u8; HEADER as usize] {
    let block = 2 * channels;
    let mut h = [0u8; HEADER as usize];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(data + HEADER - 8).to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(RATE * u32::from(block)).to_le_bytes()); // bytes per second
    h[32..34].copy_from_slice(&block.to_le_bytes()); // block align
    h[34..36].copy_from_slice(&16u16.to_le_bytes()); // bits per sample
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEREO_FRAME: u32 = (FRAME_SAMPLES * 2 * 2) as u32;

    #[test]
    fn the_file_is_playable_at_every_fix_up_and_at_the_end() {
        let dir = std::env::temp_dir().join(format!("switchboard-recording-{}", crate::random_token()));
        let mut r = Recording::call(&dir, WorkspaceId(3), ContactId(9)).unwrap();
        let path = dir.join("recordings/3/9.wav");
        for n in 0..75 {
            r.caller(&[n as i16; FRAME_SAMPLES]);
            r.agent(&[-(n as i16); FRAME_SAMPLES]);
            r.tick().unwrap();
            if n == FIX_UP_EVERY - 1 {
                // A crash now: the header already covers every frame written.
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 50 * STEREO_FRAME);
            }
        }
        let done = r.finish().unwrap();
        assert_eq!((done.name, done.length), (PathBuf::from("recordings/3/9.wav"), Duration::from_millis(1500)));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u32, HEADER + 75 * STEREO_FRAME);
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), bytes.len() as u32 - 8);
        assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 75 * STEREO_FRAME);
        // Frame 10: the caller left (10), the agent right (-10), interleaved.
        let at = (HEADER + 10 * STEREO_FRAME) as usize;
        assert_eq!(i16::from_le_bytes([bytes[at], bytes[at + 1]]), 10);
        assert_eq!(i16::from_le_bytes([bytes[at + 2], bytes[at + 3]]), -10);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_paused_span_is_silence_of_its_length_in_a_mono_voicemail() {
        let dir = std::env::temp_dir().join(format!("switchboard-recording-{}", crate::random_token()));
        let mut r = Recording::voicemail(&dir, WorkspaceId(3), ContactId(9)).unwrap();
        for n in 0..30 {
            r.pause((10..20).contains(&n));
            r.caller(&[1000; FRAME_SAMPLES]);
            r.agent(&[7; FRAME_SAMPLES]);
            r.tick().unwrap();
        }
        let done = r.finish().unwrap();
        assert_eq!(done.name, PathBuf::from("recordings/3/9-voicemail.wav"));
        assert_eq!(done.paused, vec![(Duration::from_millis(200), Duration::from_millis(400))]);
        let bytes = std::fs::read(dir.join(&done.name)).unwrap();
        assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "mono");
        assert_eq!(u32::from_le_bytes(bytes[28..32].try_into().unwrap()), 16_000, "bytes per second");
        let samples: Vec<i16> = bytes[44..].chunks(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        assert_eq!(samples.len(), 30 * FRAME_SAMPLES);
        for (n, frame) in samples.chunks(FRAME_SAMPLES).enumerate() {
            let expected = if (10..20).contains(&n) { 0 } else { 1000 };
            assert!(frame.iter().all(|&s| s == expected), "frame {n}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
