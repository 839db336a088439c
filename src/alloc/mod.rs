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
//!
//! Blocks of a megabyte and more bypass mimalloc (`big.rs`).
//!
//! Transparent huge pages are switched off for the process (`no_huge_pages`): where the system
//! enables them for everything, the kernel backs each 2 MiB stretch of mimalloc's eagerly
//! committed arena that is touched at all with a whole huge page, so resident memory depended on
//! where the arena's pages happened to fall (idle_tasks: 103.7 MB run as `eddy /abs/path.py`,
//! 108.0 MB as `eddy path.py`; 94 MB either way without). The cost is more page faults for
//! scripts that allocate heavily (spawn_gather about 10% slower, most workloads unchanged).

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

#[cfg(target_os = "linux")]
mod big;

/// Elsewhere there is no `mremap`: mimalloc serves every size.
#[cfg(not(target_os = "linux"))]
mod big {
    pub fn is_big(_size: usize, _align: usize) -> bool {
        false
    }
    pub unsafe fn alloc(_size: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
    pub unsafe fn dealloc(_p: *mut u8, _size: usize) {}
    pub unsafe fn realloc(_p: *mut u8, _old: usize, _new: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
}

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// The alignment every `mi_malloc` block of at least this size has (mimalloc's MI_MAX_ALIGN_SIZE).
const NATURAL_ALIGN: usize = 16;

pub struct MiMalloc;

/// Turns transparent huge pages off for this process, before the VM allocates in earnest (what
/// mimalloc's `MIMALLOC_ALLOW_THP=0` does at its start). Child processes inherit the setting
/// through fork and exec, as they would the environment variable. Errors (an old kernel) leave
/// the system's default.
pub fn no_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integer arguments and touches no memory.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

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
        if big::is_big(layout.size(), layout.align()) {
            return big::alloc(layout.size());
        }
        if plain_is_aligned(layout.align(), layout.size()) {
            mi_malloc(layout.size()) as *mut u8
        } else {
            mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if big::is_big(layout.size(), layout.align()) {
            // Fresh mappings are zeroed by the kernel.
            return big::alloc(layout.size());
        }
        if plain_is_aligned(layout.align(), layout.size()) {
            mi_zalloc(layout.size()) as *mut u8
        } else {
            mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if big::is_big(layout.size(), layout.align()) {
            big::dealloc(ptr, layout.size())
        } else {
            mi_free(ptr as *mut c_void)
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        match (
            big::is_big(layout.size(), align),
            big::is_big(new_size, align),
        ) {
            (true, true) => return big::realloc(ptr, layout.size(), new_size),
            (false, false) => {}
            // Crossing the threshold: a new block of the other kind, and a copy.
            _ => {
                let new_layout = Layout::from_size_align_unchecked(new_size, align);
                let new = self.alloc(new_layout);
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                return new;
            }
        }
        if plain_is_aligned(layout.align(), new_size) {
            mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Fills `n` bytes at `p` with a pattern derived from the offset.
    unsafe fn fill(p: *mut u8, n: usize) {
        for i in 0..n {
            *p.add(i) = (i % 251) as u8;
        }
    }

    unsafe fn holds_pattern(p: *const u8, n: usize) -> bool {
        (0..n).all(|i| *p.add(i) == (i % 251) as u8)
    }

    #[test]
    fn blocks_keep_their_bytes_across_the_big_threshold() {
        let a = MiMalloc;
        let small = 1000;
        let big1 = big::THRESHOLD + 12_345;
        let big2 = 3 * big::THRESHOLD;
        unsafe {
            let layout = Layout::from_size_align(small, 8).unwrap();
            let p = a.alloc(layout);
            fill(p, small);
            // small -> big (a mapping), big -> bigger (mremap), big -> small (back to mimalloc).
            let p = a.realloc(p, layout, big1);
            assert!(holds_pattern(p, small));
            fill(p, big1);
            let p = a.realloc(p, Layout::from_size_align(big1, 8).unwrap(), big2);
            assert!(holds_pattern(p, big1));
            let p = a.realloc(p, Layout::from_size_align(big2, 8).unwrap(), small);
            assert!(holds_pattern(p, small));
            a.dealloc(p, layout);
        }
    }

    #[test]
    fn big_zeroed_blocks_are_zero_and_aligned() {
        let a = MiMalloc;
        let layout = Layout::from_size_align(big::THRESHOLD * 2, 64).unwrap();
        unsafe {
            let p = a.alloc_zeroed(layout);
            assert!(!p.is_null());
            assert_eq!(p as usize % 64, 0);
            assert!((0..layout.size()).step_by(4093).all(|i| *p.add(i) == 0));
            a.dealloc(p, layout);
        }
    }

    #[test]
    fn over_page_alignment_stays_with_mimalloc() {
        assert!(big::is_big(big::THRESHOLD, 16));
        assert!(!big::is_big(big::THRESHOLD, 8192));
        assert!(!big::is_big(big::THRESHOLD - 1, 16));
        let a = MiMalloc;
        let layout = Layout::from_size_align(big::THRESHOLD, 8192).unwrap();
        unsafe {
            let p = a.alloc(layout);
            assert_eq!(p as usize % 8192, 0);
            a.dealloc(p, layout);
        }
    }
}
