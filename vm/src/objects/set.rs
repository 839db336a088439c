//! Set and frozenset storage: the hash table of CPython 3.11's `Objects/setobject.c`, slot for
//! slot, so that iteration order, `repr` and `pop` order match CPython for ints, floats and tuples.
//!
//! The table is open addressing over a power-of-two array (8 slots to start). A probe looks at
//! the home slot and, when there is room before the end of the table, the next `LINEAR_PROBES`
//! slots, then jumps with CPython's perturbed recurrence. Deleted keys leave dummy slots (hash
//! -1), which a later insertion may take over and a resize drops.
//!
//! This file knows nothing of the VM. Comparing keys may need a script `__eq__`, so lookups take
//! an `eq` closure that answers `Some(bool)` when it can decide alone and `None` when only a
//! script call can; the caller (`crate::ops` set functions) then finishes the job, as for dicts.
//! The set algorithms (union, difference, ...) live in `crate::ops::container`.

use std::cell::RefCell;

use crate::value::Value;

pub type PySet = RefCell<SetData>;

/// Table size of a new or cleared set (`PySet_MINSIZE`).
const MINSIZE: usize = 8;
/// Slots probed linearly after the home slot before jumping (`LINEAR_PROBES`).
const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;
/// The hash stored in a dummy (deleted) slot; no real hash is -1.
const DUMMY: i64 = -1;

/// One table slot: unused (`Null` key, hash 0), dummy (`Null` key, hash -1) or active.
#[derive(Clone, Default)]
struct Slot {
    hash: i64,
    key: Value,
}

impl Slot {
    fn is_unused(&self) -> bool {
        self.key.is_null() && self.hash != DUMMY
    }
    fn is_dummy(&self) -> bool {
        self.key.is_null() && self.hash == DUMMY
    }
    fn is_active(&self) -> bool {
        !self.key.is_null()
    }
}

#[derive(Clone)]
pub struct SetData {
    table: Vec<Slot>,
    /// Active plus dummy slots.
    fill: usize,
    /// Active slots (the set's length).
    used: usize,
    /// Where `pop` starts looking next.
    finger: usize,
}

/// Where a key is, or why the probe could not tell.
pub enum SetLookup {
    /// The key is in this slot.
    Found(usize),
    Absent,
    /// Slots whose keys have the same hash, in probe order, at least one of which needs a
    /// script `__eq__`; the first equal one is the key's slot.
    Undecided(Vec<usize>),
}

impl Default for SetData {
    fn default() -> Self {
        SetData::new()
    }
}

/// The slots a probe for `hash` visits, in CPython's order (an endless sequence; the caller
/// stops at an unused slot, and the table always keeps one).
fn probe(hash: i64, mask: usize) -> impl Iterator<Item = usize> {
    let mut i = (hash as u64 as usize) & mask;
    let mut perturb = hash as u64;
    let mut run = 0usize;
    let mut first = true;
    std::iter::from_fn(move || {
        if first {
            first = false;
            run = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            return Some(i);
        }
        if run > 0 {
            let j = i + (LINEAR_PROBES - run) + 1;
            run -= 1;
            return Some(j);
        }
        perturb >>= PERTURB_SHIFT;
        i = i
            .wrapping_mul(5)
            .wrapping_add(1)
            .wrapping_add(perturb as usize)
            & mask;
        run = if i + LINEAR_PROBES <= mask {
            LINEAR_PROBES
        } else {
            0
        };
        Some(i)
    })
}

impl SetData {
    pub fn new() -> SetData {
        SetData {
            table: vec![Slot::default(); MINSIZE],
            fill: 0,
            used: 0,
            finger: 0,
        }
    }
    pub fn len(&self) -> usize {
        self.used
    }
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }
    fn mask(&self) -> usize {
        self.table.len() - 1
    }

    /// Probes for `hash`, deciding equality with `eq` (see the module comment).
    pub fn lookup(&self, hash: i64, mut eq: impl FnMut(&Value) -> Option<bool>) -> SetLookup {
        let mut undecided: Vec<usize> = Vec::new();
        for i in probe(hash, self.mask()) {
            let slot = &self.table[i];
            if slot.is_unused() {
                break;
            }
            if slot.hash != hash || !slot.is_active() {
                continue;
            }
            if !undecided.is_empty() {
                // An earlier key needs a script `__eq__`, which CPython would call first.
                undecided.push(i);
                continue;
            }
            match eq(&slot.key) {
                Some(true) => return SetLookup::Found(i),
                Some(false) => {}
                None => undecided.push(i),
            }
        }
        if undecided.is_empty() {
            SetLookup::Absent
        } else {
            SetLookup::Undecided(undecided)
        }
    }

    /// The key in slot `i`, if the slot is active.
    pub fn key_at(&self, i: usize) -> Option<&Value> {
        self.table.get(i).filter(|s| s.is_active()).map(|s| &s.key)
    }
    pub fn hash_at(&self, i: usize) -> Option<i64> {
        self.table.get(i).filter(|s| s.is_active()).map(|s| s.hash)
    }

    /// Adds a key the caller has checked is absent (`set_add_entry`'s insertion half). The probe
    /// runs to an unused slot; the key takes the LAST dummy met on the way if there was one
    /// (what CPython 3.11 does, checked against it), else that unused slot, which may resize.
    pub fn insert_absent(&mut self, hash: i64, key: Value) {
        let mut freeslot = None;
        let mut unused = 0;
        for i in probe(hash, self.mask()) {
            let slot = &self.table[i];
            if slot.is_unused() {
                unused = i;
                break;
            }
            if slot.is_dummy() {
                freeslot = Some(i);
            }
        }
        self.used += 1;
        if let Some(f) = freeslot {
            self.table[f] = Slot { hash, key };
            return;
        }
        self.table[unused] = Slot { hash, key };
        self.fill += 1;
        if self.fill * 5 >= self.mask() * 3 {
            self.resize(if self.used > 50000 {
                self.used * 2
            } else {
                self.used * 4
            });
        }
    }

    /// Places a key into a table with no dummies and no equal key (`set_insert_clean`).
    fn insert_clean(table: &mut [Slot], hash: i64, key: Value) {
        let mask = table.len() - 1;
        for i in probe(hash, mask) {
            if table[i].key.is_null() {
                table[i] = Slot { hash, key };
                return;
            }
        }
    }

    /// Rebuilds the table with the smallest size above `minused` (`set_table_resize`).
    fn resize(&mut self, minused: usize) {
        let mut newsize = MINSIZE;
        while newsize <= minused {
            newsize <<= 1;
        }
        if newsize == MINSIZE && self.table.len() == MINSIZE && self.fill == self.used {
            return;
        }
        let old = std::mem::replace(&mut self.table, vec![Slot::default(); newsize]);
        for slot in old {
            if slot.is_active() {
                SetData::insert_clean(&mut self.table, slot.hash, slot.key);
            }
        }
        self.fill = self.used;
    }

    /// Grows the table before adding `n` keys that are probably new (the presizing `set_merge`
    /// and `set_update_internal` do for a set or dict argument).
    pub fn reserve_for(&mut self, n: usize) {
        if (self.fill + n) * 5 >= self.mask() * 3 {
            self.resize((self.used + n) * 2);
        }
    }

    /// Copies `other` into this set when this one is empty, as `set_merge` does (same layout
    /// when the sizes match and `other` has no dummies). Returns false, doing nothing, when
    /// this set is not empty: the caller must add the keys one by one.
    pub fn merge_into_empty(&mut self, other: &SetData) -> bool {
        if self.fill != 0 {
            return false;
        }
        if self.table.len() == other.table.len() && other.fill == other.used {
            self.table = other.table.clone();
        } else {
            for slot in other.table.iter().filter(|s| s.is_active()) {
                SetData::insert_clean(&mut self.table, slot.hash, slot.key.clone());
            }
        }
        self.fill = other.used;
        self.used = other.used;
        true
    }

    /// Turns slot `i` into a dummy, returning its key (`set_discard_entry`).
    pub fn remove_at(&mut self, i: usize) -> Option<Value> {
        let slot = self.table.get_mut(i).filter(|s| s.is_active())?;
        let key = std::mem::take(&mut slot.key);
        slot.hash = DUMMY;
        self.used -= 1;
        Some(key)
    }

    /// After removing many keys: rebuild when more than a quarter of the slots are dummies
    /// (the end of `set_difference_update_internal`).
    pub fn shrink_after_removals(&mut self) {
        if self.fill - self.used > self.mask() / 4 {
            self.resize(if self.used > 50000 {
                self.used * 2
            } else {
                self.used * 4
            });
        }
    }

    /// Removes an arbitrary key, scanning from where the last pop stopped (`set_pop`).
    pub fn pop(&mut self) -> Option<Value> {
        if self.used == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = self.finger & mask;
        while !self.table[i].is_active() {
            i = if i == mask { 0 } else { i + 1 };
        }
        self.finger = i + 1;
        self.remove_at(i)
    }

    /// Takes over another table's contents, keeping this set's pop finger (`set_swap_bodies`).
    pub fn replace_body(&mut self, other: SetData) {
        let finger = self.finger;
        *self = other;
        self.finger = finger;
    }

    /// Empties the set back to the minimum table (the pop finger is kept, as in CPython).
    pub fn clear(&mut self) {
        self.table = vec![Slot::default(); MINSIZE];
        self.fill = 0;
        self.used = 0;
    }

    /// Keys in table order (the iteration order).
    pub fn keys(&self) -> Vec<Value> {
        self.table
            .iter()
            .filter(|s| s.is_active())
            .map(|s| s.key.clone())
            .collect()
    }
    /// (hash, key) pairs in table order.
    pub fn entries(&self) -> Vec<(i64, Value)> {
        self.table
            .iter()
            .filter(|s| s.is_active())
            .map(|s| (s.hash, s.key.clone()))
            .collect()
    }
    /// Iterates the active keys in table order.
    pub fn iter(&self) -> impl Iterator<Item = &Value> {
        self.table.iter().filter(|s| s.is_active()).map(|s| &s.key)
    }
    /// Number of slots, so an iterator can resume at a position with `key_at`.
    pub fn raw_len(&self) -> usize {
        self.table.len()
    }

    /// The frozenset hash (`frozenset_hash`): order-independent, from the stored key hashes.
    pub fn frozen_hash(&self) -> i64 {
        fn shuffle(h: u64) -> u64 {
            ((h ^ 89869747) ^ (h << 16)).wrapping_mul(3644798167)
        }
        let mut hash: u64 = 0;
        for s in self.table.iter().filter(|s| s.is_active()) {
            hash ^= shuffle(s.hash as u64);
        }
        hash ^= (self.used as u64 + 1).wrapping_mul(1927868237);
        hash ^= (hash >> 11) ^ (hash >> 25);
        hash = hash.wrapping_mul(69069).wrapping_add(907133923);
        if hash == u64::MAX {
            590923713
        } else {
            hash as i64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(keys: &[i64]) -> SetData {
        let mut s = SetData::new();
        for &k in keys {
            if let SetLookup::Absent = s.lookup(k, |v| Some(matches!(v, Value::Int(x) if *x == k)))
            {
                s.insert_absent(k, Value::Int(k));
            }
        }
        s
    }

    fn ints(s: &SetData) -> Vec<i64> {
        s.iter()
            .map(|v| if let Value::Int(i) = v { *i } else { -999 })
            .collect()
    }

    #[test]
    fn small_ints_iterate_in_slot_order() {
        assert_eq!(ints(&set_of(&[3, 1, 2])), vec![1, 2, 3]);
        // CPython: {17, 1, 2, 3, 4} built by adding prints {1, 2, 3, 4, 17}.
        assert_eq!(ints(&set_of(&[17, 1, 2, 3, 4])), vec![1, 2, 3, 4, 17]);
    }

    #[test]
    fn pop_uses_finger() {
        let mut s = set_of(&[5, 1, 9]);
        let a = s.pop();
        let b = s.pop();
        assert!(matches!(a, Some(Value::Int(1))));
        assert!(matches!(b, Some(Value::Int(5))));
        assert_eq!(s.len(), 1);
    }
}
