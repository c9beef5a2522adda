//! The brute-force reference matcher: it answers by looking at every agent or
//! every contact, straight from the definitions in [`super::world`]. It is
//! the executable specification the indexed matcher is property-tested
//! against, and the baseline the routing benchmark compares with.

use super::matcher::Matcher;
use super::world::{AIdx, CIdx, World};
use crate::rng::Rng;
use crate::time::Timestamp;

#[derive(Debug, Default)]
pub struct ReferenceMatcher;

impl Matcher for ReferenceMatcher {
    fn contact_queued(&mut self, _: &World, _: CIdx) {}
    fn contact_unqueued(&mut self, _: &World, _: CIdx) {}
    fn agent_changed(&mut self, _: &World, _: AIdx) {}
    fn agent_removed(&mut self, _: &World, _: AIdx) {}

    fn best_agent(&mut self, w: &World, c: CIdx, now: Timestamp, rng: &mut Rng, _: bool) -> Option<AIdx> {
        let ct = w.contact(c);
        let mut eligible: Vec<AIdx> =
            w.agents.iter().map(|(i, _)| AIdx(i)).filter(|a| w.eligible(*a, c, now)).collect();
        if ct.pinned.is_some() {
            return eligible.pop();
        }
        eligible.sort_by_key(|a| (w.order_key(*a, ct.queue), w.agent(*a).config.id));
        if w.queue(ct.queue).ordering.random() && !eligible.is_empty() {
            return Some(eligible[rng.below(eligible.len())]);
        }
        eligible.first().copied()
    }

    fn best_contact(&mut self, w: &World, a: AIdx, now: Timestamp) -> Option<CIdx> {
        w.contacts
            .iter()
            .map(|(i, _)| CIdx(i))
            .filter(|c| w.eligible(a, *c, now))
            .min_by_key(|c| w.candidate_key(a, *c))
    }
}
