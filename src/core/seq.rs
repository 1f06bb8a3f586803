//! Order-keeping insert and remove on a `Vec` without `Vec::insert`/`Vec::remove`,
//! whose out-of-range panics format their message: the shipped wasm has no use for
//! that formatting code. The collections here hold a few entries, so shifting is cheap.
//! The `unsafe` pays for itself: in the shipped wasm (wasm-bindgen, then the package's
//! wasm-opt flags) the safe ways cost more, gzip -9: a bounds check then
//! `rotate_left`/`rotate_right` on the tail +1,163 B, a loop of `swap`s +217 B,
//! `Vec::remove`/`Vec::insert` behind a bounds check +245 B.

use alloc::vec::Vec;

/// Removes and returns `v[at]`, shifting the rest left; `None` when out of range.
pub(crate) fn remove_at<T>(v: &mut Vec<T>, at: usize) -> Option<T> {
    let len = v.len();
    if at >= len {
        return None;
    }
    // SAFETY: `at < len`: the entry is read out once and the `len - at - 1` entries
    // after it are moved over it before the length shrinks by one, so every entry
    // below the new length is initialised exactly once and none is dropped twice.
    unsafe {
        let p = v.as_mut_ptr().add(at);
        let item = core::ptr::read(p);
        core::ptr::copy(p.add(1), p, len - at - 1);
        v.set_len(len - 1);
        Some(item)
    }
}

/// Inserts `item` at `at` (at the end when `at` is past it), shifting the rest right.
pub(crate) fn insert_at<T>(v: &mut Vec<T>, at: usize, item: T) {
    let len = v.len();
    let at = at.min(len);
    v.reserve(1);
    // SAFETY: `at <= len < capacity` after `reserve`: the `len - at` entries from
    // `at` move up by one within the allocation, then `item` fills the gap, so the
    // first `len + 1` entries are initialised.
    unsafe {
        let p = v.as_mut_ptr().add(at);
        core::ptr::copy(p, p.add(1), len - at);
        core::ptr::write(p, item);
        v.set_len(len + 1);
    }
}

/// Removes and returns the first entry.
pub(crate) fn pop_front<T>(v: &mut Vec<T>) -> Option<T> {
    remove_at(v, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};
    use alloc::vec;

    #[test]
    fn remove_keeps_order_and_refuses_out_of_range() {
        let mut v: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(remove_at(&mut v, 1).as_deref(), Some("b"));
        assert_eq!(v, ["a", "c"]);
        assert_eq!(remove_at(&mut v, 2), None);
        assert_eq!(pop_front(&mut v).as_deref(), Some("a"));
        assert_eq!(pop_front(&mut v).as_deref(), Some("c"));
        assert_eq!(pop_front(&mut v), None);
    }

    #[test]
    fn insert_keeps_order_and_appends_past_the_end() {
        let mut v = vec![1, 3];
        insert_at(&mut v, 1, 2);
        insert_at(&mut v, 0, 0);
        insert_at(&mut v, 9, 4);
        assert_eq!(v, [0, 1, 2, 3, 4]);
    }
}
