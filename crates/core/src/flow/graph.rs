//! The blocks of a definition as a directed graph, for the checks that look at
//! more than one block: reachability, endless loops and whether a
//! conversation can finish.
//!
//! Every walk is iterative: definitions arrive over HTTP, and a long chain of
//! blocks must not be able to overflow the server's stack.

use super::definition::{BlockId, Definition};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub(crate) struct Graph<'a> {
    /// Block names in sorted order; a block is its index here.
    pub ids: Vec<&'a BlockId>,
    index: BTreeMap<&'a str, usize>,
    /// Edges to existing blocks only: unknown targets are reported elsewhere.
    edges: Vec<Vec<usize>>,
    waits: Vec<bool>,
    finals: Vec<bool>,
}

impl<'a> Graph<'a> {
    pub fn new(def: &'a Definition) -> Self {
        let ids: Vec<&BlockId> = def.blocks.keys().collect();
        let index: BTreeMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        let edges = def
            .blocks
            .values()
            .map(|b| b.targets().into_iter().filter_map(|(_, t)| index.get(t.as_str()).copied()).collect())
            .collect();
        let waits = def.blocks.values().map(|b| b.waits_for_customer()).collect();
        let finals = def.blocks.values().map(|b| b.is_final()).collect();
        Graph { ids, index, edges, waits, finals }
    }

    pub fn get(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The blocks some path from `roots` arrives at (the roots included).
    pub fn reachable(&self, roots: &[usize]) -> Vec<bool> {
        let mut seen = vec![false; self.ids.len()];
        let mut todo: VecDeque<usize> = roots.iter().copied().collect();
        for &r in roots {
            seen[r] = true;
        }
        while let Some(n) = todo.pop_front() {
            for &m in &self.edges[n] {
                if !seen[m] {
                    seen[m] = true;
                    todo.push_back(m);
                }
            }
        }
        seen
    }

    /// The blocks from which an `end` or `handoff` block can be reached.
    pub fn can_finish(&self) -> Vec<bool> {
        let mut reverse = vec![Vec::new(); self.ids.len()];
        for (n, targets) in self.edges.iter().enumerate() {
            for &m in targets {
                reverse[m].push(n);
            }
        }
        let mut seen = self.finals.clone();
        let mut todo: VecDeque<usize> = (0..self.ids.len()).filter(|&n| seen[n]).collect();
        while let Some(n) = todo.pop_front() {
            for &m in &reverse[n] {
                if !seen[m] {
                    seen[m] = true;
                    todo.push_back(m);
                }
            }
        }
        seen
    }

    /// Cycles made only of blocks that do not wait for the customer: the
    /// interpreter would run them for ever within one turn. Each is given as
    /// its blocks from the one a walk from `first` meets first, back to it
    /// (`[a, b, a]`). One cycle is reported per such entry block.
    pub fn busy_cycles(&self, first: Option<usize>) -> Vec<Vec<usize>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Colour {
            White,
            OnPath,
            Done,
        }
        let busy = |n: usize| !self.waits[n];
        let mut colour = vec![Colour::White; self.ids.len()];
        let mut entries = BTreeSet::new();
        let mut cycles = Vec::new();
        let roots = first.into_iter().chain(0..self.ids.len());
        for root in roots {
            if colour[root] != Colour::White || !busy(root) {
                continue;
            }
            // The path of the depth-first walk, with how many edges of each
            // block have been followed.
            let mut path: Vec<(usize, usize)> = vec![(root, 0)];
            colour[root] = Colour::OnPath;
            while let Some(top) = path.last_mut() {
                let n = top.0;
                let Some(&m) = self.edges[n].get(top.1) else {
                    colour[n] = Colour::Done;
                    path.pop();
                    continue;
                };
                top.1 += 1;
                if !busy(m) {
                    continue;
                }
                match colour[m] {
                    Colour::White => {
                        colour[m] = Colour::OnPath;
                        path.push((m, 0));
                    }
                    Colour::OnPath if entries.insert(m) => {
                        let from = path.iter().position(|&(p, _)| p == m).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[from..].iter().map(|&(p, _)| p).collect();
                        cycle.push(m);
                        cycles.push(cycle);
                    }
                    Colour::OnPath | Colour::Done => {}
                }
            }
        }
        cycles
    }
}
