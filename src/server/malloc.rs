//! glibc malloc's thresholds, set once when a server starts, so that large request bodies stop
//! costing page faults.
//!
//! glibc serves a block above its mmap threshold (128 KiB at first) with a fresh mapping and
//! unmaps it on free, and gives the free top of a heap back to the OS once it exceeds the trim
//! threshold; both thresholds then adapt, up to 32 MiB and twice that, to the largest mapped
//! block freed so far. A server reading large bodies (1 MiB uploads, 16 at a time) keeps
//! crossing them: each body's `bytes` (on GIL builds, which allocate large objects with
//! `malloc`) and hyper's read buffers (Rust allocates with `malloc` on every build) land in
//! memory that was just given back, and the kernel zero-fills it page by page on first touch
//! (a fifth of an upload's samples in `perf`). So at start the thresholds are set where they
//! would adapt to for the largest body or WebSocket message the server accepts: the mmap
//! threshold just above it (within glibc's 128 KiB..32 MiB), the trim threshold twice that (glibc's
//! own ratio). Each arena (about one per worker thread) may then keep that much free memory at
//! its top for the next request instead of returning it; memory freed in the middle of a heap
//! stays either way, as it does by default.
//!
//! Skipped where the operator chose already (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`
//! or a `glibc.malloc.` tunable in the environment), when asked not to (`tune_malloc=False`,
//! `--no-tune-malloc`), and off glibc. The settings are the process's, so they outlive the
//! server; a second server only ever raises them. (On 3.13t a body's `bytes` comes from
//! CPython's mimalloc, whose purge options are read from the environment at start-up only:
//! `MIMALLOC_PURGE_DELAY`, see NOTES.md.)

/// glibc's bounds for the mmap threshold: its starting value, and the most it accepts (and
/// adapts to) on 64-bit.
const MMAP_MIN: usize = 128 * 1024;
const MMAP_MAX: usize = 32 * 1024 * 1024;

/// Room above the largest body for the `bytes` object's header and allocator rounding.
const SLACK: usize = 64 * 1024;

/// The thresholds set for a server whose largest body or message is `largest` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Thresholds {
    mmap: usize,
    trim: usize,
}

impl Thresholds {
    fn for_largest(largest: usize) -> Self {
        let mmap = largest.saturating_add(SLACK).clamp(MMAP_MIN, MMAP_MAX);
        Self { mmap, trim: 2 * mmap }
    }
}

/// Whether the environment sets glibc malloc's thresholds itself.
fn chosen_by_environment() -> bool {
    ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"].iter().any(|name| std::env::var_os(name).is_some())
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("glibc.malloc."))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use std::sync::Mutex;

    use super::Thresholds;
    use crate::util::lock;

    /// What this process set, if anything.
    static APPLIED: Mutex<Option<Thresholds>> = Mutex::new(None);

    pub(super) fn apply(wanted: Thresholds) {
        let mut applied = lock(&APPLIED);
        let t = match *applied {
            Some(old) => Thresholds { mmap: old.mmap.max(wanted.mmap), trim: old.trim.max(wanted.trim) },
            None => wanted,
        };
        let (Ok(mmap), Ok(trim)) = (i32::try_from(t.mmap), i32::try_from(t.trim)) else { return };
        // SAFETY: mallopt only sets allocator parameters, under glibc's own lock.
        let ok = unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, mmap) == 1 && libc::mallopt(libc::M_TRIM_THRESHOLD, trim) == 1
        };
        if ok {
            *applied = Some(t);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod glibc {
    use super::Thresholds;

    pub(super) fn apply(_: Thresholds) {}
}

/// Sets the thresholds for a server whose largest body or message is `largest` bytes, unless
/// the environment chose them.
pub(crate) fn tune(largest: usize) {
    if !chosen_by_environment() {
        glibc::apply(Thresholds::for_largest(largest));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_the_largest_body_within_glibcs_bounds() {
        let default = Thresholds::for_largest(16 * 1024 * 1024);
        assert_eq!(default, Thresholds { mmap: 16 * 1024 * 1024 + SLACK, trim: 2 * (16 * 1024 * 1024 + SLACK) });
        assert_eq!(Thresholds::for_largest(0), Thresholds { mmap: MMAP_MIN, trim: 2 * MMAP_MIN });
        assert_eq!(Thresholds::for_largest(1 << 40), Thresholds { mmap: MMAP_MAX, trim: 2 * MMAP_MAX });
        assert_eq!(Thresholds::for_largest(usize::MAX).mmap, MMAP_MAX);
    }
}
