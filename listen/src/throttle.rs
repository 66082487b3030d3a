//! At most one log line a second for events a flood repeats thousands of
//! times a second (accept errors, refusals): the first is logged at once,
//! the ones within the next second are counted and named in the next line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Throttle {
    last: Mutex<Option<Instant>>,
    suppressed: AtomicU64,
}

impl Throttle {
    /// Some(events not logged since the last line) when a line may be
    /// logged now; None (the event counted) when not.
    pub fn ready(&self) -> Option<u64> {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| now.duration_since(at) < EVERY) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(now);
        Some(self.suppressed.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_a_second_naming_the_rest() {
        let t = super::Throttle::default();
        assert_eq!(t.ready(), Some(0));
        assert_eq!(t.ready(), None);
        assert_eq!(t.ready(), None);
        *t.last.lock().unwrap_or_else(|e| e.into_inner()) = None;
        assert_eq!(t.ready(), Some(2));
    }
}
