//! The memory bound of a rule sandbox process: a global allocator wrapper that counts the bytes
//! the process holds and ends the process (exit status [`OVER_LIMIT_EXIT`]) the moment a rule's
//! evaluation would hold more than the limit. The server process installs the same allocator
//! and never sets a limit, so for it the wrapper is one relaxed load per call.
//!
//! `RLIMIT_AS` would bound address space rather than memory and fail allocations the allocator
//! then reports as an abort in a random place; counting here fails at once and is told apart by
//! the exit status.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// The exit status of a sandbox process that went over its memory limit.
pub const OVER_LIMIT_EXIT: i32 = 70;

static LIMIT: AtomicIsize = AtomicIsize::new(isize::MAX);
/// Bytes allocated since the limit was set, minus those freed (may go below zero when memory
/// allocated earlier is freed: that only loosens the bound by the start-up heap).
static HELD: AtomicIsize = AtomicIsize::new(0);

/// Wraps the process's allocator; see the module docs.
pub struct Bounded<A>(pub A);

/// Limits this process to `bytes` held from now on. Called once, by a sandbox process.
pub fn limit_to(bytes: usize) {
    HELD.store(0, Relaxed);
    LIMIT.store(bytes.min(isize::MAX as usize) as isize, Relaxed);
}

#[inline]
fn grew(by: usize) {
    let limit = LIMIT.load(Relaxed);
    if limit == isize::MAX {
        return;
    }
    let by = by as isize;
    if HELD.fetch_add(by, Relaxed) + by > limit {
        over_limit();
    }
}

#[inline]
fn shrank(by: usize) {
    if LIMIT.load(Relaxed) != isize::MAX {
        HELD.fetch_sub(by as isize, Relaxed);
    }
}

#[cold]
fn over_limit() -> ! {
    const MSG: &[u8] = b"rule sandbox: memory limit reached, exiting\n";
    // No allocation from here on: write(2) and _exit(2) directly.
    unsafe {
        libc::write(2, MSG.as_ptr().cast(), MSG.len());
        libc::_exit(OVER_LIMIT_EXIT)
    }
}

unsafe impl<A: GlobalAlloc> GlobalAlloc for Bounded<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            shrank(layout.size() - new_size);
        }
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}
