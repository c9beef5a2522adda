//! A small jitter buffer for 20 ms frames of linear audio: it reorders by
//! sequence number, drops late and duplicate frames, holds at most a fixed
//! number of frames, and conceals a missing frame by repeating the last one
//! at half volume once, then silence.

use std::collections::VecDeque;

/// Samples in a 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// Frames further behind the playout point than this mean the source restarted.
const MAX_MISORDER: i32 = 100;

/// One 20 ms frame of 8 kHz linear audio.
pub type Frame = [i16; FRAME_SAMPLES];

/// Silence.
pub const SILENCE: Frame = [0; FRAME_SAMPLES];

/// What the buffer gives on a drain tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// Still filling up to the target delay (or empty after a long gap): nothing to play.
    Waiting,
    /// The frame that was due.
    Audio(Box<Frame>),
    /// The due frame was missing: a concealment frame.
    Concealed(Box<Frame>),
}

/// What the buffer did with a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Stored for playout.
    Stored,
    /// Its playout time has passed.
    Late,
    /// The same sequence number is already stored.
    Duplicate,
}

/// Counters for what the buffer dropped or made up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterCounts {
    /// Frames that arrived after their turn.
    pub late: u64,
    /// Frames received twice.
    pub duplicate: u64,
    /// Frames pushed out because the buffer was full.
    pub overflow: u64,
    /// Frames concealed.
    pub concealed: u64,
}

/// The buffer. Slot 0 holds the next sequence number to play.
#[derive(Debug)]
pub struct JitterBuffer {
    /// Frames held before playout starts: the added delay, in 20 ms units.
    target: usize,
    /// The most frames held; a frame further ahead pushes the oldest out.
    depth: usize,
    slots: VecDeque<Option<Box<Frame>>>,
    next: Option<u16>,
    playing: bool,
    /// Consecutive ticks with nothing to play; past `depth` the buffer refills.
    missing: usize,
    last: Option<Box<Frame>>,
    counts: JitterCounts,
}

impl JitterBuffer {
    /// A buffer that starts playing once `target` frames are held and holds
    /// at most `depth` (`depth` ≥ `target` ≥ 1).
    pub fn new(target: usize, depth: usize) -> Self {
        let target = target.max(1);
        JitterBuffer {
            target,
            depth: depth.max(target),
            slots: VecDeque::new(),
            next: None,
            playing: false,
            missing: 0,
            last: None,
            counts: JitterCounts::default(),
        }
    }

    /// What was dropped and concealed so far.
    pub fn counts(&self) -> JitterCounts {
        self.counts
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Whether no frame is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a frame with its RTP sequence number.
    pub fn push(&mut self, sequence: u16, frame: Frame) -> Pushed {
        let next = *self.next.get_or_insert(sequence);
        // Wrapping distance: negative is behind the playout point.
        let mut offset = i32::from(sequence.wrapping_sub(next) as i16);
        if offset < 0 && !self.playing && self.slots.len() + offset.unsigned_abs() as usize <= self.depth {
            // Before playout starts an earlier frame just moves the start back.
            for _ in 0..offset.unsigned_abs() {
                self.slots.push_front(None);
            }
            self.next = Some(sequence);
            offset = 0;
        }
        if offset < -MAX_MISORDER {
            // Far behind is not lateness but a source that started over (RFC 3550 §A.1 treats
            // jumps alike): start again from this frame.
            self.restart(sequence);
            offset = 0;
        }
        if offset < 0 {
            self.counts.late += 1;
            return Pushed::Late;
        }
        let mut index = offset as usize;
        if index >= self.depth {
            // Too far ahead: the oldest slots give way so that the newest fits.
            let shift = index + 1 - self.depth;
            if shift >= self.slots.len() {
                self.restart(sequence);
                index = 0;
            } else {
                for _ in 0..shift {
                    if self.slots.pop_front().flatten().is_some() {
                        self.counts.overflow += 1;
                    }
                }
                self.next = Some(next.wrapping_add(shift as u16));
                index = self.depth - 1;
            }
        }
        if self.slots.len() <= index {
            self.slots.resize(index + 1, None);
        }
        if self.slots[index].is_some() {
            self.counts.duplicate += 1;
            return Pushed::Duplicate;
        }
        self.slots[index] = Some(Box::new(frame));
        Pushed::Stored
    }

    /// Drops what is held and continues from `sequence`.
    fn restart(&mut self, sequence: u16) {
        self.counts.overflow += self.len() as u64;
        self.slots.clear();
        self.next = Some(sequence);
    }

    /// The frame due now; call every 20 ms.
    pub fn pop(&mut self) -> Playout {
        if !self.playing {
            if self.len() < self.target {
                return Playout::Waiting;
            }
            self.playing = true;
        }
        let Some(next) = self.next else { return Playout::Waiting };
        self.next = Some(next.wrapping_add(1));
        match self.slots.pop_front().flatten() {
            Some(frame) => {
                self.missing = 0;
                self.last = Some(frame.clone());
                Playout::Audio(frame)
            }
            None => {
                self.missing += 1;
                if self.missing > self.depth && self.is_empty() {
                    // The talker went quiet (or the stream stopped): refill before playing again.
                    self.playing = false;
                    self.next = None;
                    self.slots.clear();
                    self.missing = 0;
                    return Playout::Waiting;
                }
                self.counts.concealed += 1;
                let mut frame = self.last.take().map_or(SILENCE, |f| *f);
                for s in &mut frame {
                    *s /= 2;
                }
                // Only the first missing frame repeats; after that, silence.
                Playout::Concealed(Box::new(frame))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(v: i16) -> Frame {
        [v; FRAME_SAMPLES]
    }

    fn value(p: &Playout) -> Option<i16> {
        match p {
            Playout::Waiting => None,
            Playout::Audio(f) | Playout::Concealed(f) => Some(f[0]),
        }
    }

    #[test]
    fn reorders_and_drops_late_and_duplicates() {
        let mut b = JitterBuffer::new(3, 8);
        assert_eq!(b.push(11, frame(11)), Pushed::Stored);
        assert_eq!(b.pop(), Playout::Waiting);
        assert_eq!(b.push(10, frame(10)), Pushed::Stored, "earlier than the first, before playout");
        assert_eq!(b.push(12, frame(12)), Pushed::Stored);
        assert_eq!(b.push(12, frame(12)), Pushed::Duplicate);
        assert_eq!(value(&b.pop()), Some(10));
        assert_eq!(b.push(10, frame(10)), Pushed::Late);
        assert_eq!(value(&b.pop()), Some(11));
        assert_eq!(value(&b.pop()), Some(12));
        // 13 is lost: the last frame at half volume, then silence.
        assert_eq!(b.push(15, frame(15)), Pushed::Stored);
        assert_eq!(b.pop(), Playout::Concealed(Box::new(frame(6))));
        assert_eq!(b.pop(), Playout::Concealed(Box::new(SILENCE)));
        assert_eq!(value(&b.pop()), Some(15));
        assert_eq!(b.counts(), JitterCounts { late: 1, duplicate: 1, overflow: 0, concealed: 2 });
    }

    #[test]
    fn sequence_wraps_and_depth_is_bounded() {
        let mut b = JitterBuffer::new(1, 4);
        b.push(65535, frame(1));
        assert_eq!(value(&b.pop()), Some(1));
        b.push(0, frame(2));
        assert_eq!(value(&b.pop()), Some(2));
        // 5 ahead of a depth-4 buffer: the oldest gives way.
        for (i, s) in [1u16, 2, 3, 4, 5].into_iter().enumerate() {
            b.push(s, frame(10 + i as i16));
        }
        assert!(b.len() <= 4);
        assert_eq!(b.counts().overflow, 1);
        assert_eq!(value(&b.pop()), Some(11));
    }

    #[test]
    fn a_source_that_starts_over_is_followed() {
        let mut b = JitterBuffer::new(1, 4);
        b.push(30_000, frame(1));
        assert_eq!(value(&b.pop()), Some(1));
        // Far behind: a restart, not a late frame.
        assert_eq!(b.push(7, frame(2)), Pushed::Stored);
        assert_eq!(value(&b.pop()), Some(2));
        // Far ahead: what is held gives way and playout goes on from the new frame.
        b.push(8, frame(3));
        assert_eq!(b.push(20_000, frame(4)), Pushed::Stored);
        assert_eq!(value(&b.pop()), Some(4));
        assert_eq!(b.counts().overflow, 1);
    }

    #[test]
    fn refills_after_a_long_silence() {
        let mut b = JitterBuffer::new(2, 3);
        b.push(1, frame(1));
        b.push(2, frame(2));
        b.pop();
        b.pop();
        for _ in 0..3 {
            assert!(matches!(b.pop(), Playout::Concealed(_)));
        }
        assert_eq!(b.pop(), Playout::Waiting);
        b.push(500, frame(5));
        assert_eq!(b.pop(), Playout::Waiting, "a new talk spurt waits for the target again");
        b.push(501, frame(6));
        assert_eq!(value(&b.pop()), Some(5));
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn never_panics_and_stays_bounded(ops in proptest::collection::vec(proptest::option::of(any::<u16>()), 0..300), target in 1usize..6, depth in 1usize..12) {
            let mut b = JitterBuffer::new(target, depth);
            for op in ops {
                match op {
                    Some(seq) => { b.push(seq, frame(seq as i16)); }
                    None => { b.pop(); }
                }
                prop_assert!(b.slots.len() <= depth.max(target));
            }
        }

        #[test]
        fn shuffled_within_the_window_plays_in_order(seed in any::<u64>(), start in any::<u16>()) {
            // 50 frames, each displaced by at most 2 positions.
            let mut order: Vec<u16> = (0..50).collect();
            let mut x = seed | 1;
            for i in (0..48).step_by(3) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                order.swap(i, i + (x % 3) as usize);
            }
            let mut b = JitterBuffer::new(3, 8);
            let mut played = Vec::new();
            for s in order {
                b.push(start.wrapping_add(s), frame(s as i16));
                if let Playout::Audio(f) = b.pop() { played.push(f[0]); }
            }
            while let Playout::Audio(f) = b.pop() { played.push(f[0]); }
            prop_assert_eq!(played, (0..50).collect::<Vec<i16>>());
        }
    }
}
