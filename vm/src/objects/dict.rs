//! The dict's storage: an insertion-ordered entry vector indexed by an open-addressing hash table,
//! the layout of CPython's compact dict.
//!
//! This file knows nothing of the VM. Comparing keys may need a script `__eq__`, which needs the
//! VM, so lookups take an `eq` closure that answers `Some(bool)` when it can decide alone and `None`
//! when only a script call can; the caller (`crate::ops::dict_ops`) then finishes the job.

use std::cell::RefCell;
use std::rc::Weak;

use crate::objects::class::Instance;
use crate::value::{StrKey, Value};

pub type PyDict = RefCell<DictData>;

#[derive(Clone)]
pub struct Entry {
    pub hash: i64,
    pub key: Value,
    pub value: Value,
}

const EMPTY: u32 = u32::MAX;
const DELETED: u32 = u32::MAX - 1;

#[derive(Default)]
pub struct DictData {
    /// Entries in insertion order; `None` marks a deleted entry until the next resize compacts.
    entries: Vec<Option<Entry>>,
    /// Hash table of indices into `entries` (or EMPTY/DELETED); its length is a power of two or 0.
    indices: Vec<u32>,
    len: usize,
    /// For the dict `obj.__dict__` returns: the instance whose attributes it shows. Instances keep
    /// attributes in their own map, so every write to this dict is mirrored into that map.
    owner: Option<Weak<Instance>>,
}

impl Clone for DictData {
    /// A copy (`dict(obj.__dict__)`, `d.copy()`) is an ordinary dict: it mirrors nothing.
    fn clone(&self) -> DictData {
        DictData {
            entries: self.entries.clone(),
            indices: self.indices.clone(),
            len: self.len,
            owner: None,
        }
    }
}

/// Where a key is, or where the probe stopped.
pub enum Lookup {
    /// The key is at this entry index.
    Found(usize),
    /// The key is absent.
    Absent,
    /// Some stored key with the same hash needs a script `__eq__`; these entries must be compared.
    Undecided(Vec<usize>),
}

impl DictData {
    pub fn new() -> DictData {
        DictData::default()
    }
    pub fn with_capacity(n: usize) -> DictData {
        let mut d = DictData::default();
        if n > 0 {
            d.entries.reserve(n);
            d.indices = vec![EMPTY; (n * 3 / 2 + 1).next_power_of_two().max(8)];
        }
        d
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Probes for `hash`, deciding equality with `eq` (see the module comment).
    pub fn lookup(&self, hash: i64, mut eq: impl FnMut(&Value) -> Option<bool>) -> Lookup {
        if self.indices.is_empty() {
            return Lookup::Absent;
        }
        let mask = self.indices.len() - 1;
        let mut i = (hash as u64 as usize) & mask;
        let mut perturb = hash as u64;
        let mut undecided = Vec::new();
        loop {
            let ix = self.indices[i];
            if ix == EMPTY {
                break;
            }
            if ix != DELETED {
                if let Some(e) = &self.entries[ix as usize] {
                    if e.hash == hash {
                        match eq(&e.key) {
                            Some(true) => return Lookup::Found(ix as usize),
                            Some(false) => {}
                            None => undecided.push(ix as usize),
                        }
                    }
                }
            }
            perturb >>= 5;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
        if undecided.is_empty() {
            Lookup::Absent
        } else {
            Lookup::Undecided(undecided)
        }
    }

    /// Makes this dict the `__dict__` view of `owner` (see the `owner` field).
    pub fn set_owner(&mut self, owner: Weak<Instance>) {
        self.owner = Some(owner);
    }
    /// Mirrors `key = value` (or its removal, when `value` is None) into the owner's attributes.
    fn mirror(&self, key: &Value, value: Option<&Value>) {
        let (Some(owner), Value::Str(name)) = (&self.owner, key) else {
            return;
        };
        let Some(inst) = owner.upgrade() else { return };
        let Ok(mut attrs) = inst.dict.try_borrow_mut() else {
            return;
        };
        match value {
            Some(v) => {
                attrs.insert(StrKey(name.clone()), v.clone());
            }
            None => {
                attrs.shift_remove(&*name.s);
            }
        }
    }
    pub fn entry(&self, ix: usize) -> Option<&Entry> {
        self.entries.get(ix).and_then(|e| e.as_ref())
    }
    pub fn set_value_at(&mut self, ix: usize, value: Value) {
        if let Some(Some(e)) = self.entries.get_mut(ix) {
            e.value = value;
        }
        if let Some(Some(e)) = self.entries.get(ix) {
            self.mirror(&e.key, Some(&e.value));
        }
    }

    /// Appends a key known to be absent.
    pub fn insert_new(&mut self, hash: i64, key: Value, value: Value) {
        if (self.entries.len() + 1) * 3 >= self.indices.len() * 2 {
            self.resize();
        }
        let ix = self.entries.len() as u32;
        self.mirror(&key, Some(&value));
        self.entries.push(Some(Entry { hash, key, value }));
        self.place(hash, ix);
        self.len += 1;
    }

    fn place(&mut self, hash: i64, ix: u32) {
        let mask = self.indices.len() - 1;
        let mut i = (hash as u64 as usize) & mask;
        let mut perturb = hash as u64;
        loop {
            let slot = self.indices[i];
            if slot == EMPTY || slot == DELETED {
                self.indices[i] = ix;
                return;
            }
            perturb >>= 5;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    fn resize(&mut self) {
        let live: Vec<Option<Entry>> = self.entries.drain(..).filter(|e| e.is_some()).collect();
        self.entries = live;
        let size = ((self.entries.len() + 1) * 3).next_power_of_two().max(8);
        self.indices = vec![EMPTY; size];
        for ix in 0..self.entries.len() {
            let hash = self.entries[ix].as_ref().map(|e| e.hash).unwrap_or(0);
            self.place(hash, ix as u32);
        }
    }

    /// Removes the entry at `ix`, returning it.
    pub fn remove_at(&mut self, ix: usize) -> Option<Entry> {
        let entry = self.entries.get_mut(ix)?.take()?;
        self.mirror(&entry.key, None);
        let mask = self.indices.len() - 1;
        let mut i = (entry.hash as u64 as usize) & mask;
        let mut perturb = entry.hash as u64;
        loop {
            if self.indices[i] == ix as u32 {
                self.indices[i] = DELETED;
                break;
            }
            if self.indices[i] == EMPTY {
                break;
            }
            perturb >>= 5;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
        self.len -= 1;
        if self.len == 0 {
            self.entries.clear();
            for s in self.indices.iter_mut() {
                *s = EMPTY;
            }
        }
        Some(entry)
    }

    pub fn clear(&mut self) {
        for e in self.entries.iter().flatten() {
            self.mirror(&e.key, None);
        }
        self.entries.clear();
        self.indices.clear();
        self.len = 0;
    }

    /// Live entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter_map(|e| e.as_ref())
    }
    /// Entry slots including holes, so an iterator can resume at a position.
    pub fn raw_len(&self) -> usize {
        self.entries.len()
    }
    pub fn raw_get(&self, ix: usize) -> Option<&Entry> {
        self.entries.get(ix).and_then(|e| e.as_ref())
    }
    pub fn keys(&self) -> Vec<Value> {
        self.iter().map(|e| e.key.clone()).collect()
    }
    pub fn values(&self) -> Vec<Value> {
        self.iter().map(|e| e.value.clone()).collect()
    }
    pub fn items(&self) -> Vec<(Value, Value)> {
        self.iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect()
    }
    /// Removes and returns the last inserted entry (`dict.popitem`).
    pub fn pop_last(&mut self) -> Option<Entry> {
        let ix = self.entries.iter().rposition(|e| e.is_some())?;
        self.remove_at(ix)
    }
}
