//! Big blocks (a megabyte and up) straight from the kernel, the way glibc's malloc serves them.
//!
//! A vector that grows to millions of items (a list of 200k tasks, the ready queue, the
//! collector's list) reallocates a dozen times on its way. mimalloc copies each time and keeps
//! every block it frees committed until its purge delay passes, so for a while the process holds
//! the whole chain of outgrown copies: about 20 MB of idle_tasks' peak. Here a big block is its
//! own mapping: growing it is an `mremap` (the kernel moves page tables, nothing is copied) and
//! freeing it unmaps it at once. Blocks this size are rare, so the system calls cost nothing
//! next to filling the memory.
//!
//! The price: a fresh mapping faults in every page on first touch, so a loop that builds and
//! drops the same multi-megabyte list over and over spends more time in the kernel than with
//! mimalloc's reuse (a 200k-item list 300 times: 1.44 s against 1.19 s). glibc answers that
//! by raising its threshold to the size of each freed mapping; here that defeated the purpose,
//! since the collector frees megabyte temporaries at every collection while the script's
//! vectors are still growing (idle_tasks went back to 127 MB). See BENCHMARKS.md.

use std::ptr;

/// The smallest block served by `mmap`.
pub const THRESHOLD: usize = 1 << 20;

/// Mappings are page-aligned; a bigger alignment stays with mimalloc.
const PAGE: usize = 4096;

/// Whether a block of this size and alignment is (or is to be) a mapping of its own. Every
/// entry point decides with the same rule, so `dealloc` knows how `alloc` served a block.
#[inline]
pub fn is_big(size: usize, align: usize) -> bool {
    size >= THRESHOLD && align <= PAGE
}

/// A fresh zeroed mapping of `size` bytes, or null.
pub unsafe fn alloc(size: usize) -> *mut u8 {
    let p = libc::mmap(
        ptr::null_mut(),
        size,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        -1,
        0,
    );
    if p == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        p as *mut u8
    }
}

pub unsafe fn dealloc(p: *mut u8, size: usize) {
    libc::munmap(p as *mut libc::c_void, size);
}

/// Resizes a mapping, moving it if it cannot grow where it is; null if the kernel refuses.
pub unsafe fn realloc(p: *mut u8, old_size: usize, new_size: usize) -> *mut u8 {
    let q = libc::mremap(
        p as *mut libc::c_void,
        old_size,
        new_size,
        libc::MREMAP_MAYMOVE,
    );
    if q == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        q as *mut u8
    }
}
