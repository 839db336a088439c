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
//! Mappings start on a 2 MiB boundary, so that transparent huge pages back them as they back
//! mimalloc's arena (spawn_gather: 13,000 page faults and 0.26 s in the kernel with 4 KiB pages,
//! 7,000 and 0.06 s aligned; a huge page over a vector's unused capacity costs idle_tasks 2 MB).
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

/// Transparent huge pages come in 2 MiB: a mapping aligned to that gets them for every whole
/// 2 MiB stretch inside it (one page fault where 4 KiB pages take 512), as mimalloc's arena does.
const HUGE: usize = 2 << 20;

/// A fresh zeroed mapping of `size` bytes starting on a 2 MiB boundary, or null.
pub unsafe fn alloc(size: usize) -> *mut u8 {
    let len = size + HUGE;
    let p = libc::mmap(
        ptr::null_mut(),
        len,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        -1,
        0,
    );
    if p == libc::MAP_FAILED {
        return ptr::null_mut();
    }
    // Trim the over-allocation to an aligned mapping of exactly `size` (rounded to pages).
    let start = p as usize;
    let aligned = (start + HUGE - 1) & !(HUGE - 1);
    if aligned > start {
        libc::munmap(p, aligned - start);
    }
    let end = aligned + size.next_multiple_of(PAGE);
    if start + len > end {
        libc::munmap(end as *mut libc::c_void, start + len - end);
    }
    // Where THP is "madvise" rather than "always", ask for it.
    libc::madvise(aligned as *mut libc::c_void, size, libc::MADV_HUGEPAGE);
    aligned as *mut u8
}

pub unsafe fn dealloc(p: *mut u8, size: usize) {
    libc::munmap(p as *mut libc::c_void, size);
}

/// Resizes a mapping: in place if the address space after it is free, else moved (page tables
/// only, nothing copied) to a fresh 2 MiB-aligned place. Null if the kernel refuses.
pub unsafe fn realloc(p: *mut u8, old_size: usize, new_size: usize) -> *mut u8 {
    let in_place = libc::mremap(p as *mut libc::c_void, old_size, new_size, 0);
    if in_place != libc::MAP_FAILED {
        return p;
    }
    let target = alloc(new_size);
    if target.is_null() {
        return target;
    }
    let q = libc::mremap(
        p as *mut libc::c_void,
        old_size,
        new_size,
        libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
        target as *mut libc::c_void,
    );
    if q == libc::MAP_FAILED {
        dealloc(target, new_size);
        ptr::null_mut()
    } else {
        q as *mut u8
    }
}
