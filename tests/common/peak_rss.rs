//! Peak memory of a child process, measured by the kernel: `wait4` returns
//! the child's resource usage, whose `ru_maxrss` is its peak resident set.

use std::process::Child;

/// Waits for `child`; its exit code (None when killed by a signal) and its
/// peak RSS in bytes.
pub fn wait_measured(child: Child) -> std::io::Result<(Option<i32>, u64)> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our unwaited child; `status` and `usage` are live
    // locals. std's `Child` is never waited for after this (dropping it
    // does not wait).
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    drop(child);
    if waited != pid {
        return Err(std::io::Error::last_os_error());
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok((code, u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024))
}
