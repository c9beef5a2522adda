//! Audio prompts: uploaded WAV files and text-to-speech, converted once to
//! 8 kHz mono 16-bit audio by `sox` and cached on disk under the SHA-256 of
//! what produced them, so that a call only reads samples — from memory once
//! the prompt has been read, shared by every call playing it.
//!
//! Text-to-speech prefers `flite` with its `slt` voice (16 kHz, resampled by
//! sox; it sounds better than the 8 kHz `kal`) and falls back to `espeak-ng`.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thiserror::Error;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The largest WAV accepted: about 50 minutes of 16-bit 8 kHz audio.
pub const MAX_WAV: usize = 50 * 1024 * 1024;
/// The longest text spoken as one prompt.
pub const MAX_TEXT: usize = 4000;
/// How long one conversion may take before it is abandoned.
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a prompt could not be made.
#[derive(Debug, Error)]
pub enum PromptError {
    /// A program this needs is not installed.
    #[error("`{0}` is not installed (Debian: apt-get install {0})")]
    ToolMissing(&'static str),
    /// Neither text-to-speech engine is installed.
    #[error("no text-to-speech engine: install flite or espeak-ng")]
    NoSpeechEngine,
    /// A program failed.
    #[error("`{tool}` failed ({status}): {stderr}")]
    ToolFailed {
        /// The program.
        tool: &'static str,
        /// Its exit status.
        status: String,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// A program ran past the time limit.
    #[error("`{0}` took longer than {TOOL_TIMEOUT:?}")]
    Timeout(&'static str),
    /// Not a RIFF/WAVE file.
    #[error("not a WAV file")]
    NotWav,
    /// A WAV encoding other than 16-bit PCM, µ-law or A-law.
    #[error("unsupported WAV encoding: {0}")]
    Unsupported(String),
    /// Empty, too long or with a NUL character.
    #[error("prompt text must be 1 to {MAX_TEXT} bytes without NUL")]
    BadText,
    /// Larger than [`MAX_WAV`].
    #[error("WAV file over {MAX_WAV} bytes")]
    TooLarge,
    /// Reading or writing the cache or a file.
    #[error("prompt file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PromptError + '_ {
    move |source| PromptError::Io { path: path.to_path_buf(), source }
}

/// A prompt ready to play: 8 kHz mono linear samples, cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

impl Prompt {
    /// A prompt from samples already at 8 kHz (a tone, a test signal).
    pub fn from_samples(samples: Vec<i16>) -> Self {
        Prompt { samples: samples.into() }
    }

    /// The samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// Prompts one after the other, as one (a sentence said in cached pieces).
    pub fn join(parts: &[Prompt]) -> Self {
        Prompt { samples: parts.iter().flat_map(|p| p.samples.iter().copied()).collect() }
    }

    /// How long it plays.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.samples.len() as u64 * 125)
    }
}

/// A text-to-speech engine and its voice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpeechEngine {
    /// `flite -voice VOICE`.
    Flite(String),
    /// `espeak-ng -v VOICE`.
    EspeakNg(String),
}

impl SpeechEngine {
    /// The preferred engine installed: flite (`slt`), else espeak-ng (`en-us`).
    pub fn detect() -> Result<Self, PromptError> {
        if on_path("flite") {
            Ok(SpeechEngine::Flite("slt".into()))
        } else if on_path("espeak-ng") {
            Ok(SpeechEngine::EspeakNg("en-us".into()))
        } else {
            Err(PromptError::NoSpeechEngine)
        }
    }

    fn tool(&self) -> &'static str {
        match self {
            SpeechEngine::Flite(_) => "flite",
            SpeechEngine::EspeakNg(_) => "espeak-ng",
        }
    }

    fn voice(&self) -> &str {
        match self {
            SpeechEngine::Flite(v) | SpeechEngine::EspeakNg(v) => v,
        }
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Converted prompts in a directory, named by the hash of their source,
/// and the ones read since the start kept in memory: every call playing a
/// prompt shares its samples instead of holding a copy of its own (a
/// 30-second recording is 480 KB; a thousand callers in that IVR would
/// otherwise hold 480 MB of the same audio).
#[derive(Debug, Clone)]
pub struct PromptCache {
    dir: PathBuf,
    loaded: Arc<Mutex<Loaded>>,
}

/// The prompts in memory, by key, and their samples in all.
#[derive(Debug, Default)]
struct Loaded {
    prompts: HashMap<String, Prompt>,
    samples: usize,
}

/// Samples kept in memory at most (64 MiB, over an hour of audio): beyond
/// that a prompt is read from disk each time, as the first one was.
const MAX_LOADED_SAMPLES: usize = 32 * 1024 * 1024;

impl PromptCache {
    /// A cache in `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, PromptError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(PromptCache { dir, loaded: Arc::default() })
    }

    fn remember(&self, key: &str, prompt: &Prompt) {
        let mut loaded = self.loaded.lock().expect("prompt cache lock");
        let n = prompt.samples().len();
        if loaded.samples + n <= MAX_LOADED_SAMPLES && !loaded.prompts.contains_key(key) {
            loaded.samples += n;
            loaded.prompts.insert(key.to_string(), prompt.clone());
        }
    }

    /// Converts a WAV (16-bit PCM, µ-law or A-law at any rate and channel
    /// count) once; later calls with the same bytes read the cache.
    pub async fn wav(&self, bytes: &[u8]) -> Result<Prompt, PromptError> {
        if bytes.len() > MAX_WAV {
            return Err(PromptError::TooLarge);
        }
        check_wav(bytes)?;
        let key = hash(&[b"wav", bytes]);
        if let Some(p) = self.cached(&key).await? {
            return Ok(p);
        }
        let input = self.dir.join(format!("{key}.in.wav"));
        tokio::fs::write(&input, bytes).await.map_err(io(&input))?;
        let result = self.convert(&input, &key).await;
        let _ = tokio::fs::remove_file(&input).await;
        result
    }

    /// Speaks `text` with `engine` once; later calls read the cache.
    pub async fn speak(&self, text: &str, engine: &SpeechEngine) -> Result<Prompt, PromptError> {
        if text.trim().is_empty() || text.len() > MAX_TEXT || text.contains('\0') {
            return Err(PromptError::BadText);
        }
        let key = hash(&[b"tts", engine.tool().as_bytes(), engine.voice().as_bytes(), text.as_bytes()]);
        if let Some(p) = self.cached(&key).await? {
            return Ok(p);
        }
        let wav = self.dir.join(format!("{key}.tts.wav"));
        let wav_arg = wav.as_os_str().to_owned();
        let (mut cmd, stdin) = match engine {
            SpeechEngine::Flite(voice) => {
                let mut c = Command::new("flite");
                c.arg("-voice").arg(voice).arg("-t").arg(text).arg("-o").arg(&wav_arg);
                (c, None)
            }
            SpeechEngine::EspeakNg(voice) => {
                // Text on stdin, so that text starting with `-` is never an option.
                let mut c = Command::new("espeak-ng");
                c.arg("-v").arg(voice).arg("-w").arg(&wav_arg).arg("--stdin");
                (c, Some(text.as_bytes()))
            }
        };
        let ran = run(engine.tool(), &mut cmd, stdin).await;
        let result = match ran {
            Ok(()) => self.convert(&wav, &key).await,
            Err(e) => Err(e),
        };
        let _ = tokio::fs::remove_file(&wav).await;
        result
    }

    async fn cached(&self, key: &str) -> Result<Option<Prompt>, PromptError> {
        if let Some(p) = self.loaded.lock().expect("prompt cache lock").prompts.get(key) {
            return Ok(Some(p.clone()));
        }
        let path = self.path(key);
        match tokio::fs::read(&path).await {
            Ok(raw) => {
                let prompt = from_raw(&raw);
                self.remember(key, &prompt);
                Ok(Some(prompt))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.s16"))
    }

    /// sox → raw signed 16-bit little-endian, 8 kHz, mono; renamed into place
    /// so a reader never sees half a file.
    async fn convert(&self, input: &Path, key: &str) -> Result<Prompt, PromptError> {
        let tmp = self.dir.join(format!("{key}.s16.part"));
        let mut cmd = Command::new("sox");
        cmd.arg("-q").arg(input);
        cmd.args(["-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", "8000", "-L"]).arg(&tmp);
        run("sox", &mut cmd, None).await?;
        let raw = tokio::fs::read(&tmp).await.map_err(io(&tmp))?;
        let path = self.path(key);
        tokio::fs::rename(&tmp, &path).await.map_err(io(&path))?;
        let prompt = from_raw(&raw);
        self.remember(key, &prompt);
        Ok(prompt)
    }
}

fn from_raw(raw: &[u8]) -> Prompt {
    Prompt::from_samples(raw.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect())
}

fn hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so that two different splits never hash alike.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn run(tool: &'static str, cmd: &mut Command, stdin: Option<&[u8]>) -> Result<(), PromptError> {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => PromptError::ToolMissing(tool),
        _ => PromptError::Io { path: tool.into(), source: e },
    })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text).await.map_err(io(Path::new(tool)))?;
    }
    let out = tokio::time::timeout(TOOL_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| PromptError::Timeout(tool))?
        .map_err(io(Path::new(tool)))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: String = stderr.chars().rev().take(500).collect::<Vec<_>>().into_iter().rev().collect();
    Err(PromptError::ToolFailed { tool, status: out.status.to_string(), stderr: tail.trim().to_string() })
}

/// Checks the RIFF/WAVE header and that the encoding is one we take.
pub fn check_wav(bytes: &[u8]) -> Result<(), PromptError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(PromptError::NotWav);
    }
    let mut at = 12;
    while let Some(header) = bytes.get(at..at + 8) {
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if &header[0..4] == b"fmt " {
            let fmt = bytes.get(at + 8..at + 8 + size.min(40)).filter(|f| f.len() >= 16).ok_or(PromptError::NotWav)?;
            let mut tag = u16::from_le_bytes([fmt[0], fmt[1]]);
            let bits = u16::from_le_bytes([fmt[14], fmt[15]]);
            if tag == 0xfffe {
                // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID.
                tag = fmt.get(24..26).map(|t| u16::from_le_bytes([t[0], t[1]])).ok_or(PromptError::NotWav)?;
            }
            return match (tag, bits) {
                (1, 16) | (6, 8) | (7, 8) => Ok(()),
                (1, b) => Err(PromptError::Unsupported(format!("{b}-bit PCM"))),
                (t, _) => Err(PromptError::Unsupported(format!("format tag {t:#06x}"))),
            };
        }
        // Chunks are padded to an even size.
        at = at.saturating_add(8).saturating_add(size).saturating_add(size & 1);
    }
    Err(PromptError::NotWav)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wav_header(tag: u16, bits: u16) -> Vec<u8> {
        let mut w = b"RIFF\0\0\0\0WAVE".to_vec();
        w.extend_from_slice(b"LIST\x03\0\0\0abc\0");
        w.extend_from_slice(b"fmt \x10\0\0\0");
        w.extend_from_slice(&tag.to_le_bytes());
        w.extend_from_slice(&1u16.to_le_bytes());
        w.extend_from_slice(&8000u32.to_le_bytes());
        w.extend_from_slice(&16000u32.to_le_bytes());
        w.extend_from_slice(&2u16.to_le_bytes());
        w.extend_from_slice(&bits.to_le_bytes());
        w
    }

    #[test]
    fn wav_encodings() {
        assert!(check_wav(&wav_header(1, 16)).is_ok());
        assert!(check_wav(&wav_header(7, 8)).is_ok());
        assert!(check_wav(&wav_header(6, 8)).is_ok());
        assert!(matches!(check_wav(&wav_header(1, 24)), Err(PromptError::Unsupported(_))));
        assert!(matches!(check_wav(&wav_header(0x55, 0)), Err(PromptError::Unsupported(_))));
        assert!(matches!(check_wav(b"ID3\x04 an mp3"), Err(PromptError::NotWav)));
        assert!(matches!(check_wav(b"RIFF\0\0\0\0WAVE"), Err(PromptError::NotWav)));
    }

    #[test]
    fn hashes_do_not_collide_across_splits() {
        assert_ne!(hash(&[b"ab", b"c"]), hash(&[b"a", b"bc"]));
        assert_eq!(hash(&[b"x"]).len(), 64);
    }

    #[tokio::test]
    async fn a_missing_tool_is_named() {
        let tool = "switchboard-no-such-tool";
        let err = run(tool, &mut Command::new(tool), None).await.unwrap_err();
        assert!(matches!(err, PromptError::ToolMissing(t) if t == tool), "{err}");
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn wav_check_never_panics(mut data in proptest::collection::vec(any::<u8>(), 0..120), riff in any::<bool>()) {
            if riff && data.len() >= 12 {
                data[0..4].copy_from_slice(b"RIFF");
                data[8..12].copy_from_slice(b"WAVE");
            }
            let _ = check_wav(&data);
        }
    }
}
