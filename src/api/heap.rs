//! Heap accounting for the heap limit. A host that wants the limit measured in real bytes
//! installs [`CountingAllocator`] as its global allocator; it counts the bytes each thread has
//! live (allocated minus freed on that thread), which is what a VM — confined to one thread —
//! uses. Without it the limit falls back to an estimate from the number of container objects
//! the cycle collector tracks.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// A global allocator wrapper that counts live bytes per thread, for [`Limits::heap`].
///
/// ```
/// #[global_allocator]
/// static ALLOC: eddy::CountingAllocator<std::alloc::System> =
///     eddy::CountingAllocator(std::alloc::System);
/// # fn main() {}
/// ```
///
/// [`Limits::heap`]: crate::Limits::heap
pub struct CountingAllocator<A>(pub A);

static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Bytes allocated minus bytes freed on this thread (may go negative when memory crosses
    /// threads). A const initialiser without a destructor, so using it inside the allocator
    /// never allocates.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add(delta: isize) {
    let _ = LIVE.try_with(|c| c.set(c.get().wrapping_add(delta)));
}

// SAFETY: every method forwards to the wrapped allocator with the same arguments; the counting
// only touches a thread-local integer.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        add(layout.size() as isize);
        self.0.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        self.0.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        add(layout.size() as isize);
        self.0.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        self.0.realloc(ptr, layout, new_size)
    }
}

/// Live bytes on this thread, if the counting allocator is installed.
pub(crate) fn thread_bytes() -> Option<usize> {
    if !INSTALLED.load(Ordering::Relaxed) {
        return None;
    }
    Some(LIVE.with(|c| c.get().max(0) as usize))
}
