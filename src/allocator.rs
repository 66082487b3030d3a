//! How the process gives memory back. glibc's malloc raises its mmap
//! threshold each time a large block is freed, up to 32 MiB, after which
//! buffers of that size come from its heaps and stay in the process when
//! freed: after a few decompressed reports the resident size stays at the
//! sum of the largest ones any thread ever held (the load test measured a
//! peak of 168-197 MiB on a 96 MiB budget that way; 94-96 MiB with the
//! threshold fixed). Fixing it at 1 MiB keeps large buffers mapped on their
//! own, returned to the system when freed. `MALLOC_MMAP_THRESHOLD_` in the
//! environment still wins.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_freed_memory() {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        return;
    }
    // SAFETY: mallopt only sets an allocator parameter; it is called first
    // thing in main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_freed_memory() {}
