//! One instance's bytes while they arrive: in memory, charged to the budget, while small and
//! while the budget has room; in a sealed spill file otherwise.

use std::sync::Arc;

use super::budget::Charge;
use super::spill::SpillFile;
use super::{InFlight, InFlightError};

/// An instance being received, behind a prefix (a Part 10 file's preamble and meta group).
#[derive(Debug)]
pub struct Buffer {
    inflight: Arc<InFlight>,
    /// The prefix and, while in memory, the content.
    memory: Vec<u8>,
    prefix_len: usize,
    /// The memory budget's charge for `memory`'s capacity.
    charge: Charge,
    /// Boxed: its key schedule is large, and most buffers never spill.
    spill: Option<Box<SpillFile>>,
}

/// A complete instance in memory, with the budget's charge for it (kept while it is worked on).
#[derive(Debug)]
pub struct Held {
    pub bytes: Vec<u8>,
    pub charge: Charge,
}

impl Buffer {
    /// An empty buffer after `prefix`, with room for `hint` bytes reserved when the budget has
    /// it (the size of the last instance: a series is assembled without regrowing).
    pub fn new(inflight: &Arc<InFlight>, prefix: Vec<u8>, hint: usize) -> Buffer {
        let mut memory = prefix;
        let mut charge = inflight.memory().charge();
        let hint = hint.min(usize::try_from(inflight.spill_threshold()).unwrap_or(usize::MAX));
        if charge.grow((memory.capacity() + hint) as u64) {
            memory.reserve_exact(hint);
        } else {
            // The prefix, a few hundred bytes, is kept even when the budget is spent.
            let _ = charge.grow(memory.capacity() as u64);
        }
        Buffer {
            inflight: inflight.clone(),
            prefix_len: memory.len(),
            memory,
            charge,
            spill: None,
        }
    }

    /// Content bytes received (the prefix not counted).
    pub fn len(&self) -> u64 {
        match &self.spill {
            Some(spill) => spill.len(),
            None => (self.memory.len() - self.prefix_len) as u64,
        }
    }

    /// Whether no content was received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the content went to a spill file.
    pub fn is_spilled(&self) -> bool {
        self.spill.is_some()
    }

    /// The memory to read `length` more bytes into (its room reserved and charged), or None once
    /// the instance goes to disk: then [`Buffer::append`] takes them.
    pub fn room(&mut self, length: usize) -> Result<Option<&mut Vec<u8>>, InFlightError> {
        if self.spill.is_none() {
            let needed = self.memory.len() + length;
            let threshold = self.inflight.spill_threshold();
            if ((needed - self.prefix_len) as u64) <= threshold {
                let capacity = self.memory.capacity();
                if needed <= capacity {
                    return Ok(Some(&mut self.memory));
                }
                let cap = self.prefix_len.saturating_add(threshold as usize);
                let target = needed.max(capacity.saturating_mul(2).min(cap));
                if self.charge.grow((target - capacity) as u64) {
                    self.memory.reserve_exact(target - self.memory.len());
                    return Ok(Some(&mut self.memory));
                }
            }
            self.start_spill()?;
        }
        Ok(None)
    }

    /// Appends `bytes`, in memory or to the spill file.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), InFlightError> {
        if let Some(memory) = self.room(bytes.len())? {
            memory.extend_from_slice(bytes);
            return Ok(());
        }
        match &mut self.spill {
            Some(spill) => spill.write(bytes),
            None => Err(InFlightError::MemoryExhausted),
        }
    }

    /// Sends this instance to disk now, whatever its size (nothing happens if it is there).
    pub fn spill_now(&mut self) -> Result<(), InFlightError> {
        if self.spill.is_none() {
            self.start_spill()?;
        }
        Ok(())
    }

    /// Moves the content received so far to a new spill file and gives its memory back.
    fn start_spill(&mut self) -> Result<(), InFlightError> {
        let mut spill = Box::new(SpillFile::create(&self.inflight)?);
        spill.write(&self.memory[self.prefix_len..])?;
        self.memory.truncate(self.prefix_len);
        self.memory.shrink_to_fit();
        self.charge.shrink_to(self.memory.capacity() as u64);
        self.spill = Some(spill);
        Ok(())
    }

    /// The whole instance (prefix and content) in memory: a spilled one is read back if the
    /// budget has room for it, and its file removed.
    pub fn finish(self) -> Result<Held, InFlightError> {
        let Some(spill) = self.spill else {
            return Ok(Held {
                bytes: self.memory,
                charge: self.charge,
            });
        };
        let total = self.prefix_len as u64 + spill.len();
        let mut charge = self.inflight.memory().charge();
        if !charge.grow(total) {
            return Err(InFlightError::MemoryExhausted);
        }
        let mut bytes = self.memory;
        spill.read_into(&mut bytes)?;
        drop(spill);
        charge.shrink_to(bytes.capacity() as u64);
        drop(self.charge);
        Ok(Held { bytes, charge })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inflight::InFlightLimits;

    fn inflight(name: &str, memory_budget: u64, spill_threshold: u64) -> Arc<InFlight> {
        let dir = std::env::temp_dir().join(format!("buffer-{name}-{}", std::process::id()));
        let limits = InFlightLimits {
            memory_budget,
            spill_threshold,
            ..InFlightLimits::default()
        };
        InFlight::new(&limits, &dir).unwrap()
    }

    #[test]
    fn small_instances_stay_in_memory_and_large_ones_spill() {
        let budget = inflight("small", 1 << 20, 4096);
        let mut small = Buffer::new(&budget, b"PRE".to_vec(), 1000);
        small.append(&[1; 1000]).unwrap();
        assert!(!small.is_spilled());
        let mut large = Buffer::new(&budget, b"PRE".to_vec(), 0);
        for _ in 0..10 {
            large.append(&[2; 1000]).unwrap();
        }
        assert!(large.is_spilled());
        assert!(budget.memory().used() < 4096, "spilled bytes leave memory");
        let held = large.finish().unwrap();
        assert_eq!(held.bytes.len(), 3 + 10_000);
        assert_eq!(&held.bytes[..3], b"PRE");
        assert!(held.bytes[3..].iter().all(|b| *b == 2));
        assert!(budget.memory().used() >= 10_003);
        drop(held);
        drop(small);
        assert_eq!(budget.memory().used(), 0);
        assert_eq!(budget.disk().used(), 0);
    }

    #[test]
    fn a_spent_budget_spills_and_refuses_to_read_back() {
        let budget = inflight("spent", 2000, 1 << 20);
        let mut first = Buffer::new(&budget, Vec::new(), 0);
        first.append(&[1; 1500]).unwrap();
        let mut second = Buffer::new(&budget, Vec::new(), 0);
        second.append(&[2; 1500]).unwrap();
        assert!(!first.is_spilled());
        assert!(second.is_spilled(), "the budget is spent: to disk");
        assert!(matches!(
            second.finish(),
            Err(InFlightError::MemoryExhausted)
        ));
        drop(first);
        assert_eq!(budget.memory().used(), 0);
    }
}
