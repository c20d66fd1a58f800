//! Helpers for the C boundary: panic containment, pointer checks and
//! out-parameters. Every exported function goes through [`guard`], so no
//! panic ever unwinds into C.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::rtls_result;

/// Run `f`, turning a panic into `RTLS_INTERNAL_PANIC`.
pub(crate) fn guard<F>(f: F) -> rtls_result
where
    F: FnOnce() -> rtls_result,
{
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(rv) => rv,
        Err(_) => rtls_result::RTLS_INTERNAL_PANIC,
    }
}

/// Like [`guard`] for functions that return a plain value; `fallback` is
/// returned when `f` panics.
pub(crate) fn guard_value<T, F>(fallback: T, f: F) -> T
where
    F: FnOnce() -> T,
{
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Borrow `len` bytes at `ptr` as a slice. A NULL pointer is only accepted
/// together with a length of 0.
///
/// # Safety
/// `ptr` must point to `len` readable bytes that stay valid and unchanged
/// for the lifetime the caller picks.
pub(crate) unsafe fn slice_in<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        if len == 0 {
            Some(&[])
        } else {
            None
        }
    } else {
        Some(std::slice::from_raw_parts(ptr, len))
    }
}

/// Borrow `len` writable bytes at `ptr`; NULL only with length 0.
///
/// # Safety
/// `ptr` must point to `len` writable bytes not aliased elsewhere.
pub(crate) unsafe fn slice_out<'a>(ptr: *mut u8, len: usize) -> Option<&'a mut [u8]> {
    if ptr.is_null() {
        if len == 0 {
            Some(&mut [])
        } else {
            None
        }
    } else {
        Some(std::slice::from_raw_parts_mut(ptr, len))
    }
}

/// Release a handle made by `Box::into_raw` (the *_free functions of
/// builders and connections); NULL is ignored, a panic in a destructor
/// stays here.
///
/// # Safety
/// `ptr` is NULL or came from `Box::into_raw` and is not used afterwards.
pub(crate) unsafe fn free_box<T>(ptr: *mut T) {
    let _ = guard(|| {
        if !ptr.is_null() {
            drop(Box::from_raw(ptr));
        }
        rtls_result::RTLS_OK
    });
}

/// Release the caller's reference to a handle made by `Arc::into_raw`
/// (keys, configurations, ticketers); NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or came from `Arc::into_raw`, and this reference is not
/// used afterwards.
pub(crate) unsafe fn free_arc<T>(ptr: *const T) {
    let _ = guard(|| {
        if !ptr.is_null() {
            drop(std::sync::Arc::from_raw(ptr));
        }
        rtls_result::RTLS_OK
    });
}

/// Write `value` through `out` when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or points to writable storage for a `T`.
pub(crate) unsafe fn set_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        *out = value;
    }
}

/// Return early with `RTLS_INTERNAL_NULL_ARGUMENT` when a required pointer
/// argument is NULL.
macro_rules! try_ref {
    ($ptr:expr) => {
        match unsafe { $ptr.as_ref() } {
            Some(r) => r,
            None => return crate::error::rtls_result::RTLS_INTERNAL_NULL_ARGUMENT,
        }
    };
}

/// Mutable variant of [`try_ref`].
macro_rules! try_mut {
    ($ptr:expr) => {
        match unsafe { $ptr.as_mut() } {
            Some(r) => r,
            None => return crate::error::rtls_result::RTLS_INTERNAL_NULL_ARGUMENT,
        }
    };
}

/// Borrow an input buffer or return `RTLS_INTERNAL_NULL_ARGUMENT`.
macro_rules! try_slice {
    ($ptr:expr, $len:expr) => {
        match unsafe { crate::ffi::slice_in($ptr, $len) } {
            Some(s) => s,
            None => return crate::error::rtls_result::RTLS_INTERNAL_NULL_ARGUMENT,
        }
    };
}

pub(crate) use {try_mut, try_ref, try_slice};
