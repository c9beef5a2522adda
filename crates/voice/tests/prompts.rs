//! Prompts from WAV files through the real `sox`: any supported WAV becomes
//! 8 kHz mono audio of the same length, converted once.

use std::time::Duration;
use switchboard_voice::g711::{alaw_encode, ulaw_encode};
use switchboard_voice::prompt::{PromptCache, PromptError};

/// A WAV file: format tag, channels, rate, bits and the data bytes.
fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt \x10\0\0\0");
    for v in [tag, channels] {
        w.extend_from_slice(&v.to_le_bytes());
    }
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    for v in [block, bits] {
        w.extend_from_slice(&v.to_le_bytes());
    }
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(data.len() as u32).to_le_bytes());
    w.extend_from_slice(data);
    w
}

fn tone(rate: u32, ms: u32) -> Vec<i16> {
    (0..rate * ms / 1000)
        .map(|i| ((f64::from(i) * 440.0 * std::f64::consts::TAU / f64::from(rate)).sin() * 10_000.0) as i16)
        .collect()
}

fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("switchboard-voice-{name}-{}", std::process::id()))
}

#[tokio::test]
async fn wav_files_become_8khz_mono_once() {
    let dir = temp_dir("wav");
    let cache = PromptCache::new(&dir).unwrap();
    // 16 kHz stereo 16-bit PCM, 500 ms.
    let pcm: Vec<u8> = tone(16_000, 500).iter().flat_map(|s| [s.to_le_bytes(), s.to_le_bytes()]).flatten().collect();
    let stereo = cache.wav(&wav(1, 2, 16_000, 16, &pcm)).await.unwrap();
    assert_eq!(stereo.duration(), Duration::from_millis(500));
    assert!((rms(stereo.samples()) - rms(&tone(8000, 500))).abs() < 500.0, "{}", rms(stereo.samples()));
    // G.711 WAVs at 8 kHz, both laws.
    let t = tone(8000, 300);
    let mu: Vec<u8> = t.iter().map(|&s| ulaw_encode(s)).collect();
    let a: Vec<u8> = t.iter().map(|&s| alaw_encode(s)).collect();
    for (tag, data) in [(7, mu), (6, a)] {
        let p = cache.wav(&wav(tag, 1, 8000, 8, &data)).await.unwrap();
        assert_eq!(p.samples().len(), 2400);
        assert!((rms(p.samples()) - rms(&t)).abs() < 300.0);
    }
    // Converted once: the same bytes again read the cache (three files, no leftovers).
    let again = cache.wav(&wav(1, 2, 16_000, 16, &pcm)).await.unwrap();
    assert_eq!(again, stereo);
    // Calls share one copy of the samples, and so does a second cache on the directory once it read the file.
    assert_eq!(again.samples().as_ptr(), stereo.samples().as_ptr());
    let other = PromptCache::new(&dir).unwrap();
    let (first, second) = (
        other.wav(&wav(1, 2, 16_000, 16, &pcm)).await.unwrap(),
        other.wav(&wav(1, 2, 16_000, 16, &pcm)).await.unwrap(),
    );
    assert_eq!(first, stereo);
    assert_eq!(first.samples().as_ptr(), second.samples().as_ptr());
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(".s16")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bad_input_is_a_typed_error() {
    let dir = temp_dir("bad");
    let cache = PromptCache::new(&dir).unwrap();
    assert!(matches!(cache.wav(b"not a wav at all").await, Err(PromptError::NotWav)));
    assert!(matches!(cache.wav(&wav(3, 1, 8000, 32, &[0; 64])).await, Err(PromptError::Unsupported(_))));
    // A header sox cannot read past: its failure comes back with its message.
    let mut broken = wav(1, 1, 8000, 16, &[0; 64]);
    broken[22] = 0;
    assert!(matches!(cache.wav(&broken).await, Err(PromptError::ToolFailed { tool: "sox", .. })), "zero channels");
    let engine = switchboard_voice::prompt::SpeechEngine::detect().unwrap();
    assert!(matches!(cache.speak("  ", &engine).await, Err(PromptError::BadText)));
    assert!(matches!(cache.speak("a\0b", &engine).await, Err(PromptError::BadText)));
    let _ = std::fs::remove_dir_all(&dir);
}
