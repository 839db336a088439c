//! The `eddy` binary's global allocator: mimalloc, called the way std calls the system malloc.
//!
//! Scripts allocate and free small objects (strings, argument vectors, tuples) at a high rate, and
//! mimalloc's thread-local free lists serve them several times faster than glibc's malloc (CPython
//! has its own small-object allocator for the same reason). Only the binary installs it; programs
//! that embed the VM keep whatever allocator they choose.
//!
//! Why not the `mimalloc` crate's allocator: it passes every request to `mi_malloc_aligned`, whose
//! fast path only serves a page whose free list is non-empty and otherwise over-allocates by the
//! alignment. Plain `mi_malloc` already guarantees the alignment Rust asks for almost always (as
//! glibc's does), so that is what this calls, keeping the aligned entry points for the rest.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// The alignment every `mi_malloc` block of at least this size has (mimalloc's MI_MAX_ALIGN_SIZE).
const NATURAL_ALIGN: usize = 16;

pub struct MiMalloc;

/// True when a plain `mi_malloc(size)` block is aligned enough for `align`: blocks are aligned to
/// 16 bytes, or to their size when smaller (an 8-byte block is 8-aligned), as with std's malloc.
fn plain_is_aligned(align: usize, size: usize) -> bool {
    align <= NATURAL_ALIGN && align <= size
}

// SAFETY: each method forwards to the mimalloc function with the same contract, and only uses the
// unaligned entry points when `plain_is_aligned` says their blocks satisfy the layout.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain_is_aligned(layout.align(), layout.size()) {
            mi_malloc(layout.size()) as *mut u8
        } else {
            mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain_is_aligned(layout.align(), layout.size()) {
            mi_zalloc(layout.size()) as *mut u8
        } else {
            mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi_free(ptr as *mut c_void)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if plain_is_aligned(layout.align(), new_size) {
            mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}
