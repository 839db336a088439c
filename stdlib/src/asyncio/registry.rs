//! The loop's registry of unfinished tasks (what `all_tasks` and the end of `asyncio.run`
//! walk): a slab of task pointers with a free list, so a task costs 8-12 bytes here and
//! registering or dropping one is O(1). Each task remembers its slot (`TaskData::slot`).
//! Slots are reused, so the walks that show tasks sort them by creation (task id); those
//! walks are rare.

use std::rc::Rc;

use eddy_vm::objects::class::Instance;
use eddy_vm::Value;

use super::futures;

/// The slot of a task not in any registry.
pub const NO_SLOT: u32 = u32::MAX;

#[derive(Default)]
pub struct TaskRegistry {
    slots: Vec<Option<Rc<Instance>>>,
    /// Empty slots below `slots.len()`, reused last freed first.
    free: Vec<u32>,
    live: usize,
}

impl TaskRegistry {
    /// Registers `task`; returns its slot (NO_SLOT if `task` is not an instance, which a task
    /// always is).
    pub fn insert(&mut self, task: &Value) -> u32 {
        let Value::Instance(t) = task else {
            return NO_SLOT;
        };
        let slot = match self.free.pop() {
            Some(s) => s,
            None if self.slots.len() < NO_SLOT as usize => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
            None => return NO_SLOT,
        };
        self.slots[slot as usize] = Some(t.clone());
        self.live += 1;
        slot
    }

    /// Drops `task` from `slot` (nothing if the slot holds another task: a task finished
    /// while another loop runs, or NO_SLOT).
    pub fn remove(&mut self, slot: u32, task: &Value) {
        let Some(entry) = self.slots.get_mut(slot as usize) else {
            return;
        };
        match (&*entry, task) {
            (Some(t), Value::Instance(u)) if Rc::ptr_eq(t, u) => *entry = None,
            _ => return,
        }
        self.live -= 1;
        if self.live == 0 {
            // All done: start over, giving the memory of a burst of tasks back.
            self.slots.clear();
            self.free.clear();
            if self.slots.capacity() > 1024 {
                self.clear();
            }
        } else {
            self.free.push(slot);
        }
    }

    /// How many tasks are registered.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Every registered task not done yet, in creation order.
    pub fn pending(&self) -> Vec<Value> {
        let mut tasks: Vec<(u64, Value)> = self
            .slots
            .iter()
            .flatten()
            .map(|t| Value::Instance(t.clone()))
            .filter(|t| !futures::is_done(t))
            .map(|t| (task_id(&t), t))
            .collect();
        tasks.sort_unstable_by_key(|(id, _)| *id);
        tasks.into_iter().map(|(_, t)| t).collect()
    }

    /// Forgets every task (the loop is closed).
    pub fn clear(&mut self) {
        self.slots = Vec::new();
        self.free = Vec::new();
        self.live = 0;
    }
}

fn task_id(t: &Value) -> u64 {
    futures::with_task(t, |_, d| d.id).unwrap_or(0)
}
