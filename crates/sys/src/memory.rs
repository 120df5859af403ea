//! Keeping the daemon's resident set to what it uses.
//!
//! * A config load or reload of thousands of instances allocates tens of megabytes that are
//!   freed right after; glibc keeps most of it in its arenas, so the process's RSS would stay
//!   at the high-water mark for its whole life. [`release_free_heap`] gives it back.
//! * Start-up runs code that never runs again (the config parser, the command line, the
//!   netlink dumps): its pages of program text stay mapped, and the kernel maps whole page-cache
//!   folios (up to megabytes of a large binary) on each fault. [`release_clean_file_pages`]
//!   unmaps the read-only file pages; the steady state maps back the few it runs (minor faults,
//!   from the page cache), and the rest stays out of the resident set. Nothing is lost: those
//!   pages are exact copies of the file.
//! * [`tune_allocator`] makes large blocks (a 1,000-instance model, an IPC frame) separate
//!   mappings returned to the kernel when freed, instead of heap that later blocks pin.

use std::ops::Range;

/// Allocations from this size on get their own mapping, freed back to the kernel at once
/// (glibc's default start value, pinned: glibc would raise it to the largest block freed).
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;
/// Free memory at the top of the heap beyond this is returned at once (glibc's default,
/// pinned for the same reason).
const TRIM_THRESHOLD: libc::c_int = 128 * 1024;

/// Sets glibc's allocator for a long-lived daemon with bursts at start-up and reload: one
/// arena (the processes are single-threaded), and fixed mmap/trim thresholds. Call once at
/// start, before the children are forked (they inherit it). Returns whether glibc took all
/// three settings.
pub fn tune_allocator() -> bool {
    [
        (libc::M_ARENA_MAX, 1),
        (libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD),
    ]
    .into_iter()
    // SAFETY: mallopt only changes glibc's allocator parameters; it takes no pointers.
    .all(|(param, value)| unsafe { libc::mallopt(param, value) } == 1)
}

/// Releases free memory at the top of glibc's heaps and unused whole pages inside them.
/// Returns whether any memory was released.
pub fn release_free_heap() -> bool {
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks; it takes no pointers
    // from us and is safe to call at any time from any thread.
    unsafe { libc::malloc_trim(0) != 0 }
}

/// Size of a transparent huge page on x86-64 and most other platforms.
const HUGE_PAGE: usize = 2 << 20;

/// For a short-lived process that builds one large structure and exits (`-t` on a large
/// configuration; never the daemon, whose heap would keep its high-water mark in huge pages):
/// reserves `bytes` of heap in one step and asks for transparent huge pages on it, so tens of
/// megabytes of small allocations fault in as a few dozen 2 MB pages instead of thousands of
/// 4 kB ones. Blocks up to 32 MB come from that heap instead of mappings of their own, and
/// nothing is given back before exit. Returns whether the kernel took the advice (with THP
/// disabled the process simply runs on small pages).
pub fn heap_in_huge_pages(bytes: usize) -> bool {
    let tuned = [
        (libc::M_MMAP_THRESHOLD, 32 << 20),
        (libc::M_TRIM_THRESHOLD, libc::c_int::MAX),
        (
            libc::M_TOP_PAD,
            libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX),
        ),
    ]
    .into_iter()
    // SAFETY: mallopt only changes glibc's allocator parameters; it takes no pointers.
    .all(|(param, value)| unsafe { libc::mallopt(param, value) } == 1);
    if !tuned {
        return false;
    }
    // SAFETY: sbrk(0) only reads the current program break.
    let before = unsafe { libc::sbrk(0) } as usize;
    // A block larger than what is left of the heap makes glibc grow it, by the top pad as well;
    // freed, it stays part of the heap (the trim threshold above). `black_box`: an allocation
    // that is never used may be left out by the compiler.
    drop(std::hint::black_box(Vec::<u8>::with_capacity(1 << 20)));
    // SAFETY: as above.
    let after = unsafe { libc::sbrk(0) } as usize;
    let start = before.next_multiple_of(HUGE_PAGE);
    let end = after - after % HUGE_PAGE;
    if end <= start {
        return false;
    }
    // SAFETY: [start, end) lies inside the heap glibc just grew, which stays mapped for the life
    // of the process (no trimming); MADV_HUGEPAGE only sets how future faults there are served
    // and changes no content.
    unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) == 0 }
}

/// What [`release_clean_file_pages`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Released {
    /// Mappings unmapped from the resident set.
    pub mappings: usize,
    /// Resident kilobytes they held before.
    pub resident_kb: u64,
}

/// Drops the read-only file pages (program text and read-only data of the binary and its
/// libraries) from this process's resident set. Mappings that hold private copies (relocated
/// data, a debugger's breakpoints) or are locked (`mlockall`) are left alone, so no content
/// can change: a page dropped here faults back in from the page cache when next used.
pub fn release_clean_file_pages() -> std::io::Result<Released> {
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    let mut released = Released::default();
    for m in clean_file_mappings(&smaps) {
        let len = m.range.end.saturating_sub(m.range.start);
        // SAFETY: the range is a whole mapping of this process that is not writable and holds
        // no anonymous (private, modified) page, so MADV_DONTNEED only drops page-table entries
        // of pages identical to the file: no memory Rust or C code owns changes content.
        let rc =
            unsafe { libc::madvise(m.range.start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
        if rc == 0 {
            released.mappings += 1;
            released.resident_kb += m.resident_kb;
        }
    }
    Ok(released)
}

/// A mapping [`release_clean_file_pages`] may drop.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CleanMapping {
    range: Range<usize>,
    resident_kb: u64,
}

/// One mapping's header and the smaps fields that decide.
#[derive(Debug, Default)]
struct Candidate {
    range: Option<Range<usize>>,
    eligible: bool,
    rss_kb: u64,
    anonymous_kb: u64,
    locked_kb: u64,
}

impl Candidate {
    fn from_header(line: &str) -> Option<Self> {
        let mut fields = line.split_ascii_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        let perms = fields.next()?.as_bytes();
        let _offset = fields.next()?;
        let _device = fields.next()?;
        let inode = fields.next()?;
        let path = fields.next().unwrap_or("");
        // Private, not writable, backed by a real file (not [vdso], [vvar], deleted files).
        let eligible = perms.len() == 4
            && perms.get(1) == Some(&b'-')
            && perms.get(3) == Some(&b'p')
            && inode != "0"
            && path.starts_with('/')
            && fields.next().is_none();
        Some(Self {
            range: (start < end).then_some(start..end),
            eligible,
            ..Self::default()
        })
    }

    fn field(&mut self, line: &str) {
        let Some((key, value)) = line.split_once(':') else {
            return;
        };
        let kb = value
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok();
        let slot = match key {
            "Rss" => &mut self.rss_kb,
            "Anonymous" => &mut self.anonymous_kb,
            "Locked" => &mut self.locked_kb,
            _ => return,
        };
        match kb {
            Some(kb) => *slot = kb,
            // A field we cannot read might be a private page: leave the mapping alone.
            None => self.eligible = false,
        }
    }

    fn finish(self) -> Option<CleanMapping> {
        let keep = self.eligible && self.anonymous_kb == 0 && self.locked_kb == 0;
        match (keep && self.rss_kb > 0, self.range) {
            (true, Some(range)) => Some(CleanMapping {
                range,
                resident_kb: self.rss_kb,
            }),
            _ => None,
        }
    }
}

/// The mappings of `/proc/self/smaps` text that are private, read-only, file-backed, resident
/// and hold neither anonymous nor locked pages.
fn clean_file_mappings(smaps: &str) -> Vec<CleanMapping> {
    let mut out = Vec::new();
    let mut current: Option<Candidate> = None;
    for line in smaps.lines() {
        let is_header = line.split_ascii_whitespace().next().is_some_and(|f| {
            f.contains('-') && f.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        });
        if is_header {
            out.extend(current.take().and_then(Candidate::finish));
            // An unreadable header starts a mapping nothing is done with.
            current = Some(Candidate::from_header(line).unwrap_or_default());
        } else if let Some(c) = current.as_mut() {
            c.field(line);
        }
    }
    out.extend(current.and_then(Candidate::finish));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trimming_after_a_burst_of_frees_is_harmless() {
        let burst: Vec<Vec<u8>> = (0..1000).map(|i| vec![i as u8; 4096]).collect();
        drop(burst);
        let _ = release_free_heap();
        let after = vec![1u8; 1 << 16];
        assert_eq!(after.len(), 1 << 16);
    }

    #[test]
    fn allocator_settings_are_taken() {
        assert!(tune_allocator());
        let big = vec![7u8; 1 << 20];
        assert_eq!(big.iter().map(|&b| u64::from(b)).sum::<u64>(), 7 << 20);
    }

    const SMAPS: &str = "\
55d0c0000000-55d0c0100000 r--p 00000000 fe:00 1234 /usr/sbin/keepalived-rs
Size:               1024 kB
Rss:                 300 kB
Anonymous:             0 kB
Locked:                0 kB
55d0c0100000-55d0c0600000 r-xp 00100000 fe:00 1234 /usr/sbin/keepalived-rs
Size:               5120 kB
Rss:                3000 kB
Anonymous:             0 kB
Locked:                0 kB
55d0c0600000-55d0c0700000 r--p 00600000 fe:00 1234 /usr/sbin/keepalived-rs
Rss:                 200 kB
Anonymous:           156 kB
Locked:                0 kB
55d0c0700000-55d0c0702000 rw-p 00700000 fe:00 1234 /usr/sbin/keepalived-rs
Rss:                   8 kB
Anonymous:             8 kB
55d0c1000000-55d0c1100000 rw-p 00000000 00:00 0 [heap]
Rss:                 100 kB
Anonymous:           100 kB
7f0000000000-7f0000100000 r-xp 00028000 fe:00 99 /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                1100 kB
Anonymous:             0 kB
Locked:             1100 kB
7f0000200000-7f0000210000 r-xp 00000000 fe:00 77 /tmp/gone (deleted)
Rss:                  64 kB
Anonymous:             0 kB
7f0000300000-7f0000310000 r--p 00000000 fe:00 78 /usr/lib/locale/C.utf8/LC_CTYPE
Rss:                   0 kB
Anonymous:             0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
Rss:                   4 kB
Anonymous:             0 kB
";

    #[test]
    fn only_clean_private_read_only_file_mappings_are_chosen() {
        let got = clean_file_mappings(SMAPS);
        assert_eq!(
            got,
            vec![
                CleanMapping {
                    range: 0x55d0_c000_0000..0x55d0_c010_0000,
                    resident_kb: 300
                },
                CleanMapping {
                    range: 0x55d0_c010_0000..0x55d0_c060_0000,
                    resident_kb: 3000
                },
            ]
        );
    }

    #[test]
    fn an_unreadable_field_keeps_the_mapping() {
        let smaps =
            "00400000-00500000 r-xp 00000000 fe:00 5 /bin/x\nRss: 12 kB\nAnonymous: ?? kB\n";
        assert!(clean_file_mappings(smaps).is_empty());
    }

    #[test]
    fn this_process_keeps_running_after_its_text_is_dropped() {
        let before = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let chosen = clean_file_mappings(&before);
        assert!(
            !chosen.is_empty(),
            "the test binary's text is a clean mapping"
        );
        let released = release_clean_file_pages().unwrap();
        assert!(released.mappings > 0);
        // Code and read-only data are still there: formatting and hashing run from them.
        let text = format!("{:?}", (1..5).collect::<Vec<u32>>());
        assert_eq!(text, "[1, 2, 3, 4]");
        let set: std::collections::HashSet<&str> = ["a", "b"].into_iter().collect();
        assert!(set.contains("a"));
    }

    proptest! {
        #[test]
        fn any_text_is_parsed_without_panic(text in "\\PC*") {
            let _ = clean_file_mappings(&text);
        }

        #[test]
        fn writable_or_anonymous_mappings_are_never_chosen(
            write in any::<bool>(), anon in 0u64..10, rss in 0u64..10,
        ) {
            let perms = if write { "rw-p" } else { "r-xp" };
            let smaps = format!(
                "1000-2000 {perms} 00000000 fe:00 7 /bin/x\nRss: {rss} kB\nAnonymous: {anon} kB\nLocked: 0 kB\n"
            );
            let chosen = !clean_file_mappings(&smaps).is_empty();
            prop_assert_eq!(chosen, !write && anon == 0 && rss > 0);
        }
    }
}
