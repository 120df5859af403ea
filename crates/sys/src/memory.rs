//! Returning freed heap memory to the kernel.
//!
//! A config load or reload of thousands of instances allocates tens of megabytes that are
//! freed right after; glibc keeps most of it in its arenas, so the process's RSS stays at the
//! high-water mark for its whole life. Trimming after such a burst gives it back.

/// Releases free memory at the top of glibc's heaps and unused whole pages inside them.
/// Returns whether any memory was released.
pub fn release_free_heap() -> bool {
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks; it takes no pointers
    // from us and is safe to call at any time from any thread.
    unsafe { libc::malloc_trim(0) != 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_after_a_burst_of_frees_is_harmless() {
        let burst: Vec<Vec<u8>> = (0..1000).map(|i| vec![i as u8; 4096]).collect();
        drop(burst);
        let _ = release_free_heap();
        let after = vec![1u8; 1 << 16];
        assert_eq!(after.len(), 1 << 16);
    }
}
