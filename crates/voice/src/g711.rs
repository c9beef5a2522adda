//! G.711 µ-law (PCMU) and A-law (PCMA) by bit arithmetic (ITU-T G.711).
//!
//! Encoding works on 16-bit linear samples; G.711 carries 14 (µ-law) or 13
//! (A-law) bits of them, so a decode → encode round trip is exact while an
//! encode → decode round trip is within one quantisation step.

/// The µ-law bias: shifts every segment so that the segment search is a
/// position-of-highest-bit question.
const ULAW_BIAS: i32 = 0x84;
/// The largest magnitude µ-law can carry before the bias is added.
const ULAW_CLIP: i32 = 32635;

/// Encodes one linear sample as µ-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    let mut x = i32::from(sample);
    let sign = if x < 0 { 0x80 } else { 0 };
    if x < 0 {
        x = -x;
    }
    x = x.min(ULAW_CLIP) + ULAW_BIAS;
    // Segment = position of the highest set bit above bit 7 (0..=7).
    let exponent = (31 - (x as u32).leading_zeros() as i32 - 7).clamp(0, 7);
    let mantissa = (x >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// Decodes one µ-law byte to a linear sample.
pub fn ulaw_decode(byte: u8) -> i16 {
    let b = !byte;
    let exponent = i32::from((b >> 4) & 0x07);
    let mantissa = i32::from(b & 0x0f);
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    (if b & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// Encodes one linear sample as A-law.
pub fn alaw_encode(sample: i16) -> u8 {
    // A-law works on 13 bits: drop the three lowest.
    let x = i32::from(sample) >> 3;
    let (sign, magnitude) = if x >= 0 { (0x80u8, x) } else { (0x00u8, -x - 1) };
    let magnitude = magnitude.min(0x0fff);
    let code = if magnitude < 32 {
        (magnitude >> 1) as u8
    } else {
        // Segment 1..=7 from the highest set bit (bit 5 → 1, bit 11 → 7).
        let segment = 31 - (magnitude as u32).leading_zeros() as i32 - 4;
        ((segment << 4) | ((magnitude >> segment) & 0x0f)) as u8
    };
    // Even bits are inverted on the wire (ITU-T G.711 transmission rule).
    (sign | code) ^ 0x55
}

/// Decodes one A-law byte to a linear sample.
pub fn alaw_decode(byte: u8) -> i16 {
    let b = byte ^ 0x55;
    let segment = i32::from((b >> 4) & 0x07);
    let mantissa = i32::from(b & 0x0f);
    // Reconstruct at the middle of the quantisation interval.
    let magnitude = if segment == 0 { (mantissa << 4) + 8 } else { ((mantissa << 4) + 0x108) << (segment - 1) };
    (if b & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

/// The two laws, as RTP payload types 0 and 8 name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// PCMU, payload type 0.
    Ulaw,
    /// PCMA, payload type 8.
    Alaw,
}

impl Law {
    /// Encodes a frame of linear samples.
    pub fn encode(self, samples: &[i16]) -> Vec<u8> {
        match self {
            Law::Ulaw => samples.iter().map(|&s| ulaw_encode(s)).collect(),
            Law::Alaw => samples.iter().map(|&s| alaw_encode(s)).collect(),
        }
    }

    /// Decodes a frame of G.711 bytes.
    pub fn decode(self, bytes: &[u8]) -> Vec<i16> {
        match self {
            Law::Ulaw => bytes.iter().map(|&b| ulaw_decode(b)).collect(),
            Law::Alaw => bytes.iter().map(|&b| alaw_decode(b)).collect(),
        }
    }

    /// The static RTP payload type of this law (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Law::Ulaw => 0,
            Law::Alaw => 8,
        }
    }

    /// The byte that decodes to (near) zero: what silence is on the wire.
    pub fn silence(self) -> u8 {
        match self {
            Law::Ulaw => 0xff,
            Law::Alaw => 0xd5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_points() {
        assert_eq!(ulaw_encode(0), 0xff);
        assert_eq!(ulaw_decode(0xff), 0);
        assert_eq!(ulaw_decode(0x7f), 0);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(alaw_encode(0), 0xd5);
        assert_eq!(alaw_decode(0xd5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xaa), 32256);
        assert_eq!(alaw_decode(0x2a), -32256);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
    }

    #[test]
    fn every_code_survives_decode_then_encode() {
        for b in 0..=255u8 {
            // µ-law has two zeros (0x7f and 0xff); both decode to 0 which encodes to 0xff.
            let back = ulaw_encode(ulaw_decode(b));
            assert!(back == b || (b == 0x7f && back == 0xff), "µ-law {b:#x} → {back:#x}");
            assert_eq!(alaw_encode(alaw_decode(b)), b, "A-law {b:#x}");
        }
    }

    #[test]
    fn encoding_is_monotonic() {
        let mut last_u = i32::MIN;
        let mut last_a = i32::MIN;
        for s in i16::MIN..=i16::MAX {
            let u = i32::from(ulaw_decode(ulaw_encode(s)));
            let a = i32::from(alaw_decode(alaw_encode(s)));
            assert!(u >= last_u && a >= last_a, "at {s}");
            last_u = u;
            last_a = a;
        }
    }

    /// The quantisation step of the segment a sample falls in bounds the error.
    fn ulaw_step(s: i16) -> i32 {
        let m = i32::from(s).abs().min(ULAW_CLIP) + ULAW_BIAS;
        let exponent = (31 - (m as u32).leading_zeros() as i32 - 7).clamp(0, 7);
        1 << (exponent + 3)
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn ulaw_round_trip_within_a_step(s in any::<i16>()) {
            let back = i32::from(ulaw_decode(ulaw_encode(s)));
            let err = (back - i32::from(s).clamp(-ULAW_CLIP, ULAW_CLIP)).abs();
            prop_assert!(err <= ulaw_step(s), "{s} -> {back}");
        }

        #[test]
        fn alaw_round_trip_within_a_step(s in any::<i16>()) {
            let back = i32::from(alaw_decode(alaw_encode(s)));
            let x = i32::from(s).abs();
            let step = if x < 512 { 16 } else { 1 << (31 - (x as u32 >> 3).leading_zeros() as i32 - 4 + 3) };
            prop_assert!((back - i32::from(s)).abs() <= step, "{s} -> {back} (step {step})");
        }
    }
}
