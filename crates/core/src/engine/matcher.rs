//! The matcher answers the two questions routing asks; the state machine
//! tells it what changed.

use super::world::{AIdx, CIdx, World};
use crate::rng::Rng;
use crate::time::Timestamp;

pub trait Matcher: Default {
    /// `c` just became `Queued` (arrived, came back from an offer, changed step).
    fn contact_queued(&mut self, w: &World, c: CIdx);
    /// `c` is about to stop being `Queued`; its fields still show where it was.
    fn contact_unqueued(&mut self, w: &World, c: CIdx);
    /// Something that decides `a`'s readiness or rank changed.
    fn agent_changed(&mut self, w: &World, a: AIdx);
    /// `a` is about to be removed.
    fn agent_removed(&mut self, w: &World, a: AIdx);
    /// The agent `c` should be offered to now, by its queue's ordering.
    /// `arrival` says `c` has just entered its queue while the matching was
    /// maximal (no agent eligible for any waiting contact), which a matcher
    /// may use to answer sooner; such a contact is not queued in the
    /// matcher yet (`contact_queued` follows if no agent takes it).
    fn best_agent(&mut self, w: &World, c: CIdx, now: Timestamp, rng: &mut Rng, arrival: bool) -> Option<AIdx>;
    /// The contact `a` should be offered now, by `a`'s order.
    fn best_contact(&mut self, w: &World, a: AIdx, now: Timestamp) -> Option<CIdx>;
}
