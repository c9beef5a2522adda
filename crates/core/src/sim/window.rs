//! The contacts of a run still in play, by id.
//!
//! Ids are handed out in arrival order and contacts finish roughly in that
//! order, so the finished ones at the front are dropped: memory follows the
//! contacts in progress (and the longest of them), not the length of the
//! run. A lookup is one subtraction, as in a plain vector.

use std::collections::VecDeque;

pub(super) struct Window<T> {
    /// The id of `items[0]`; ids start at 1.
    first: u64,
    items: VecDeque<T>,
}

impl<T> Window<T> {
    pub fn new() -> Self {
        Window { first: 1, items: VecDeque::new() }
    }

    /// Adds the next contact and returns its id.
    pub fn push(&mut self, item: T) -> u64 {
        self.items.push_back(item);
        self.first + self.items.len() as u64 - 1
    }

    /// Contacts that ever arrived.
    pub fn arrived(&self) -> u64 {
        self.first + self.items.len() as u64 - 1
    }

    /// `None` for a contact dropped because it was finished.
    pub fn get(&self, id: u64) -> Option<&T> {
        id.checked_sub(self.first).and_then(|i| self.items.get(i as usize))
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        id.checked_sub(self.first).and_then(|i| self.items.get_mut(i as usize))
    }

    /// Drops the finished contacts at the front.
    pub fn trim(&mut self, finished: impl Fn(&T) -> bool) {
        while self.items.front().is_some_and(&finished) {
            self.items.pop_front();
            self.first += 1;
        }
    }

    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_survive_the_front_being_dropped() {
        let mut w = Window::new();
        for done in [true, true, false, true, false] {
            w.push(done);
        }
        w.trim(|&d| d);
        assert_eq!(w.held(), 3);
        assert_eq!(w.get(1), None);
        assert_eq!(w.get(3), Some(&false));
        assert_eq!(w.get(5), Some(&false));
        assert_eq!(w.get(6), None);
        *w.get_mut(3).unwrap() = true;
        w.trim(|&d| d);
        assert_eq!(w.held(), 1);
        assert_eq!(w.push(true), 6);
        assert_eq!(w.arrived(), 6);
        assert_eq!(w.get(0), None);
    }
}
