//! TEMPORARY: stands in for the VM's eval breaker (vm/src/breaker.rs) until it lands on main.
#![allow(dead_code)]

use std::rc::Rc;

use eddy_vm::PyResult;

use super::RawVm;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    Continue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookId(u64);

pub type TickHook = Rc<dyn Fn(&mut RawVm) -> PyResult<Tick>>;

pub trait BreakerExt {
    fn add_tick_hook(&mut self, hook: TickHook) -> HookId;
    fn ticks(&self) -> u64;
    fn request_tick_within(&mut self, n: u32);
}

impl BreakerExt for RawVm {
    fn add_tick_hook(&mut self, _hook: TickHook) -> HookId {
        HookId(0)
    }
    fn ticks(&self) -> u64 {
        0
    }
    fn request_tick_within(&mut self, _n: u32) {}
}
