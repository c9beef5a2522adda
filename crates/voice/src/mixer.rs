//! Mixing 20 ms frames of several legs: each leg hears the sum of the others
//! (never itself), saturated to 16 bits. A call's bridge of two legs relays
//! each to the other directly; this is for a third leg (a supervisor's
//! listen, whisper and barge, not done yet).

use crate::jitter::{FRAME_SAMPLES, Frame, SILENCE};

/// Identifies a leg in a mixer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u32);

/// The legs of one conference and the frame each gave this tick.
#[derive(Debug, Default)]
pub struct Mixer {
    legs: Vec<(LegId, Option<Box<Frame>>)>,
}

impl Mixer {
    /// A mixer with no legs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a leg (no effect when present).
    pub fn add(&mut self, leg: LegId) {
        if !self.legs.iter().any(|(l, _)| *l == leg) {
            self.legs.push((leg, None));
        }
    }

    /// Removes a leg.
    pub fn remove(&mut self, leg: LegId) {
        self.legs.retain(|(l, _)| *l != leg);
    }

    /// The leg's frame for this tick; a leg that gives none is silent.
    pub fn put(&mut self, leg: LegId, frame: Frame) {
        if let Some((_, slot)) = self.legs.iter_mut().find(|(l, _)| *l == leg) {
            *slot = Some(Box::new(frame));
        }
    }

    /// What each leg hears this tick; the frames given are used up.
    pub fn mix(&mut self) -> Vec<(LegId, Frame)> {
        let inputs: Vec<&Frame> = self.legs.iter().map(|(_, f)| f.as_deref().unwrap_or(&SILENCE)).collect();
        let outputs = mix_minus(&inputs);
        let ids: Vec<LegId> = self
            .legs
            .iter_mut()
            .map(|(l, f)| {
                *f = None;
                *l
            })
            .collect();
        ids.into_iter().zip(outputs).collect()
    }
}

/// For every input, the saturated sum of all the other inputs.
pub fn mix_minus(inputs: &[&Frame]) -> Vec<Frame> {
    // i32 holds the sum of 65,536 full-scale inputs, far more than any call has.
    let mut total = [0i32; FRAME_SAMPLES];
    for f in inputs {
        for (t, &s) in total.iter_mut().zip(f.iter()) {
            *t += i32::from(s);
        }
    }
    inputs
        .iter()
        .map(|own| {
            let mut out = SILENCE;
            for ((o, &t), &s) in out.iter_mut().zip(total.iter()).zip(own.iter()) {
                *o = (t - i32::from(s)).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_leg_hears_the_others_only() {
        let mut m = Mixer::new();
        for l in 1..=3 {
            m.add(LegId(l));
        }
        m.put(LegId(1), [100; FRAME_SAMPLES]);
        m.put(LegId(2), [20; FRAME_SAMPLES]);
        m.put(LegId(3), [3; FRAME_SAMPLES]);
        let out = m.mix();
        assert_eq!(out.iter().map(|(l, f)| (l.0, f[0])).collect::<Vec<_>>(), [(1, 23), (2, 103), (3, 120)]);
        // Nothing given on the next tick: silence everywhere.
        assert!(m.mix().iter().all(|(_, f)| *f == SILENCE));
        m.remove(LegId(2));
        assert_eq!(m.mix().len(), 2);
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        let loud = [i16::MAX; FRAME_SAMPLES];
        let quiet = [i16::MIN; FRAME_SAMPLES];
        let out = mix_minus(&[&loud, &loud, &loud, &quiet, &quiet, &quiet]);
        assert_eq!(out[0][0], i16::MIN, "2 × max + 3 × min is below the range");
        let out = mix_minus(&[&loud, &loud, &loud]);
        assert_eq!(out[0][0], i16::MAX);
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn matches_the_sum_of_others(frames in proptest::collection::vec(any::<i16>(), 1..8)) {
            let inputs: Vec<Frame> = frames.iter().map(|&v| [v; FRAME_SAMPLES]).collect();
            let refs: Vec<&Frame> = inputs.iter().collect();
            for (i, out) in mix_minus(&refs).iter().enumerate() {
                let expected: i64 = frames.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, &v)| i64::from(v)).sum();
                prop_assert_eq!(i64::from(out[0]), expected.clamp(i64::from(i16::MIN), i64::from(i16::MAX)));
            }
        }
    }
}
