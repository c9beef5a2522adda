//! Recording a bridged call: a stereo WAV, the caller on the left and the
//! agent on the right, 8 kHz 16-bit PCM, from the answer to the hang-up.
//!
//! It is written as the call goes, one 20 ms stereo frame per tick of the
//! bridge, and the header's sizes are rewritten every second: a crash
//! loses at most the last second and leaves a file any player opens. Each
//! side's frames wait in a short queue for the tick (the two legs' clocks
//! differ a little); a side with nothing queued is silence for that frame.

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
const BYTES_PER_FRAME: u32 = (FRAME_SAMPLES * 2 * 2) as u32;

pub(crate) struct Recording {
    file: File,
    /// Relative to the data directory: what the event names.
    name: PathBuf,
    frames: u32,
    caller: VecDeque<Frame>,
    agent: VecDeque<Frame>,
}

impl Recording {
    /// Starts `recordings/<workspace>/<contact>.wav` under `data_dir`.
    pub(crate) fn create(data_dir: &Path, ws: WorkspaceId, contact: ContactId) -> std::io::Result<Recording> {
        let name = PathBuf::from("recordings").join(ws.0.to_string()).join(format!("{}.wav", contact.0));
        let path = data_dir.join(&name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = File::create(&path)?;
        file.write_all(&header(0))?;
        Ok(Recording { file, name, frames: 0, caller: VecDeque::new(), agent: VecDeque::new() })
    }

    pub(crate) fn caller(&mut self, frame: &Frame) {
        push(&mut self.caller, frame);
    }

    pub(crate) fn agent(&mut self, frame: &Frame) {
        push(&mut self.agent, frame);
    }

    /// Writes the next 20 ms. The writes are small (640 bytes) and go to the
    /// page cache, so they are made in place rather than on a blocking thread.
    pub(crate) fn tick(&mut self) -> std::io::Result<()> {
        let left = self.caller.pop_front().unwrap_or(SILENCE);
        let right = self.agent.pop_front().unwrap_or(SILENCE);
        let mut bytes = Vec::with_capacity(BYTES_PER_FRAME as usize);
        for (l, r) in left.iter().zip(right.iter()) {
            bytes.extend_from_slice(&l.to_le_bytes());
            bytes.extend_from_slice(&r.to_le_bytes());
        }
        self.file.write_all(&bytes)?;
        self.frames += 1;
        if self.frames.is_multiple_of(FIX_UP_EVERY) {
            self.fix_up()?;
        }
        Ok(())
    }

    /// Closes the file with its final sizes: its name under the data directory and its length.
    pub(crate) fn finish(mut self) -> std::io::Result<(PathBuf, Duration)> {
        self.fix_up()?;
        self.file.sync_all()?;
        Ok((self.name, Duration::from_millis(u64::from(self.frames) * 20)))
    }

    fn fix_up(&mut self) -> std::io::Result<()> {
        let end = self.file.stream_position()?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&header(self.frames * BYTES_PER_FRAME))?;
        self.file.seek(SeekFrom::Start(end))?;
        Ok(())
    }
}

fn push(queue: &mut VecDeque<Frame>, frame: &Frame) {
    if queue.len() >= QUEUE {
        queue.pop_front();
    }
    queue.push_back(*frame);
}

/// The RIFF/WAVE header of `data` bytes of 8 kHz 16-bit stereo PCM.
fn header(data: u32) -> [u8; HEADER as usize] {
    let mut h = [0u8; HEADER as usize];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(data + HEADER - 8).to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&2u16.to_le_bytes()); // channels
    h[24..28].copy_from_slice(&8000u32.to_le_bytes());
    h[28..32].copy_from_slice(&32_000u32.to_le_bytes()); // bytes per second
    h[32..34].copy_from_slice(&4u16.to_le_bytes()); // block align
    h[34..36].copy_from_slice(&16u16.to_le_bytes()); // bits per sample
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_playable_at_every_fix_up_and_at_the_end() {
        let dir = std::env::temp_dir().join(format!("switchboard-recording-{}", crate::random_token()));
        let mut r = Recording::create(&dir, WorkspaceId(3), ContactId(9)).unwrap();
        let path = dir.join("recordings/3/9.wav");
        for n in 0..75 {
            r.caller(&[n as i16; FRAME_SAMPLES]);
            r.agent(&[-(n as i16); FRAME_SAMPLES]);
            r.tick().unwrap();
            if n == FIX_UP_EVERY - 1 {
                // A crash now: the header already covers every frame written.
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 50 * BYTES_PER_FRAME);
            }
        }
        let (name, length) = r.finish().unwrap();
        assert_eq!((name, length), (PathBuf::from("recordings/3/9.wav"), Duration::from_millis(1500)));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u32, HEADER + 75 * BYTES_PER_FRAME);
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), bytes.len() as u32 - 8);
        assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 75 * BYTES_PER_FRAME);
        // Frame 10: the caller left (10), the agent right (-10), interleaved.
        let at = (HEADER + 10 * BYTES_PER_FRAME) as usize;
        assert_eq!(i16::from_le_bytes([bytes[at], bytes[at + 1]]), 10);
        assert_eq!(i16::from_le_bytes([bytes[at + 2], bytes[at + 3]]), -10);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
