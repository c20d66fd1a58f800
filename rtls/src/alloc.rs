//! The crate's global allocator: the C library's malloc for everything but
//! rustls' record buffer, which gets pages of its own.
//!
//! Why: rustls 0.20 gives every connection an 18 KiB zero-filled buffer for
//! incoming records (`MessageDeframer`), made when the connection is made.
//! From malloc, `calloc` has to clear it (the memory is mostly reused), so
//! all of it becomes resident at once and stays so while the connection
//! idles, although a connection mostly holds a few hundred bytes there
//! (handshake messages, a request). Pages straight from the kernel are zero
//! already and become resident only where they are written: an idle
//! keep-alive connection then keeps one or two pages of that buffer instead
//! of five. A freed buffer's pages are dropped (`MADV_DONTNEED`: zero and
//! not resident again) and the block goes to a free list for the next
//! connection; mapping and unmapping per connection cost ~45 µs of CPU per
//! short connection in the benchmark, the free list about one page fault.
//! The free list is per process (a forked child inherits a copy; httpd's
//! parent makes no connections, so it stays empty there).
//!
//! Only blocks of exactly `MAX_WIRE_SIZE` bytes (rustls' own constant; a
//! test checks that a new connection's buffer comes through here) take the
//! page path, whether allocated zeroed or not, so `dealloc` can tell by the
//! layout alone where a block came from. Everything else is `System`.
//! Nothing here panics; failures are null pointers, as `GlobalAlloc`
//! requires.

use std::alloc::{GlobalAlloc, Layout, System};
#[cfg(test)]
use std::cell::Cell;
use std::os::raw::{c_int, c_long, c_void};
use std::ptr;
use std::sync::Mutex;

use rustls::internal::msgs::message::OpaqueMessage;

/// Size of the blocks that get pages of their own.
pub(crate) const PAGED_SIZE: usize = OpaqueMessage::MAX_WIRE_SIZE;
const PAGE: usize = 4096;

// Linux x86_64/aarch64 values (asm-generic); this crate builds for Linux.
const PROT_READ: c_int = 0x1;
const PROT_WRITE: c_int = 0x2;
const MAP_PRIVATE: c_int = 0x02;
const MAP_ANONYMOUS: c_int = 0x20;
const MADV_DONTNEED: c_int = 4;

extern "C" {
    fn mmap(addr: *mut c_void, len: usize, prot: c_int, flags: c_int, fd: c_int, off: c_long) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> c_int;
    fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
}

/// Freed blocks kept mapped for reuse (their pages given back with
/// MADV_DONTNEED, so they are zero again and not resident): mapping and
/// unmapping per connection costs far more than that.
const FREE_MAX: usize = 1024;
struct FreeBlocks {
    len: usize,
    addrs: [usize; FREE_MAX],
}
static FREE: Mutex<FreeBlocks> = Mutex::new(FreeBlocks { len: 0, addrs: [0; FREE_MAX] });

#[cfg(test)]
thread_local! {
    /// Blocks this thread got through the page path (for tests). A `Cell`
    /// with a const initializer: no allocation, no destructor.
    static PAGED_MADE: Cell<usize> = const { Cell::new(0) };
}

pub(crate) struct RtlsAlloc;

#[inline]
fn is_paged(layout: &Layout) -> bool {
    layout.size() == PAGED_SIZE && layout.align() <= PAGE
}

#[inline]
fn paged_len(size: usize) -> usize {
    (size + PAGE - 1) & !(PAGE - 1)
}

unsafe fn map_pages(size: usize) -> *mut u8 {
    if let Ok(mut free) = FREE.lock() {
        if free.len > 0 {
            free.len -= 1;
            let i = free.len;
            #[cfg(test)]
            let _ = PAGED_MADE.try_with(|n| n.set(n.get() + 1));
            return free.addrs[i] as *mut u8;
        }
    }
    let p = mmap(ptr::null_mut(), paged_len(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if p as isize == -1 {
        return ptr::null_mut();
    }
    #[cfg(test)]
    let _ = PAGED_MADE.try_with(|n| n.set(n.get() + 1));
    p as *mut u8
}

unsafe fn unmap_pages(p: *mut u8, size: usize) {
    // Both calls fail only for arguments we never pass (an unaligned or
    // unmapped range); a block whose pages could not be dropped is unmapped.
    if madvise(p as *mut c_void, paged_len(size), MADV_DONTNEED) == 0 {
        if let Ok(mut free) = FREE.lock() {
            if free.len < FREE_MAX {
                let i = free.len;
                free.addrs[i] = p as usize;
                free.len += 1;
                return;
            }
        }
    }
    let _ = munmap(p as *mut c_void, paged_len(size));
}

unsafe impl GlobalAlloc for RtlsAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_paged(&layout) {
            map_pages(layout.size())
        } else {
            System.alloc(layout)
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_paged(&layout) {
            map_pages(layout.size()) // anonymous pages are zero
        } else {
            System.alloc_zeroed(layout)
        }
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if is_paged(&layout) {
            unmap_pages(p, layout.size())
        } else {
            System.dealloc(p, layout)
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        if !is_paged(&layout) && !is_paged(&new_layout) {
            return System.realloc(p, layout, new_size);
        }
        let q = self.alloc(new_layout);
        if !q.is_null() {
            ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
            self.dealloc(p, layout);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: RtlsAlloc = RtlsAlloc;

/// How many blocks the calling thread got through the page path so far.
#[cfg(test)]
fn paged_made() -> usize {
    PAGED_MADE.try_with(|n| n.get()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paged_blocks_are_zero_writable_and_resizable() {
        let before = paged_made();
        let mut v: Vec<u8> = vec![0u8; PAGED_SIZE];
        assert!(paged_made() > before);
        assert!(v.iter().all(|&b| b == 0));
        assert_eq!(v.as_ptr() as usize % PAGE, 0);
        v[0] = 1;
        v[PAGED_SIZE - 1] = 2;
        // grow out of the page path and shrink into it again
        v.push(3);
        assert_eq!((v[0], v[PAGED_SIZE - 1], v[PAGED_SIZE]), (1, 2, 3));
        v.truncate(PAGED_SIZE);
        v.shrink_to_fit();
        assert_eq!(v.capacity(), PAGED_SIZE);
        assert_eq!((v[0], v[PAGED_SIZE - 1]), (1, 2));
        let mut w: Vec<u8> = Vec::with_capacity(PAGED_SIZE); // not zeroed, same path
        w.extend_from_slice(&v);
        assert_eq!(w, v);
    }

    /// If rustls changes how it sizes its record buffer, this fails: then
    /// PAGED_SIZE must follow (or the page path go).
    #[test]
    fn a_new_connection_takes_the_page_path() {
        let before = paged_made();
        let acceptor = rustls::server::Acceptor::default();
        assert_eq!(paged_made(), before + 1);
        drop(acceptor);
    }

    #[test]
    fn other_sizes_use_malloc() {
        let before = paged_made();
        let a = vec![7u8; PAGED_SIZE - 1];
        let b = vec![7u8; PAGED_SIZE + 1];
        let mut c: Vec<u8> = Vec::with_capacity(64);
        c.resize(PAGED_SIZE - 1, 1); // realloc around the paged size
        c.push(2);
        c.push(3);
        assert_eq!(paged_made(), before);
        assert_eq!(a.len() + b.len() + c.len(), 3 * PAGED_SIZE + 1);
    }
}
