//! What a batch write did: reports stored, already stored, rows; summed
//! over the batches of a run or a service's life.

/// What a batch write did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteSummary {
    /// Reports stored by this write (a report in parts counts once, with its last part).
    pub reports: u64,
    /// Reports (or parts) already stored, or repeated inside the batch.
    pub duplicates: u64,
    /// Rows inserted, all tables together.
    pub rows: u64,
}

impl std::ops::AddAssign for WriteSummary {
    fn add_assign(&mut self, other: Self) {
        self.reports += other.reports;
        self.duplicates += other.duplicates;
        self.rows += other.rows;
    }
}

impl WriteSummary {
    /// Counts a report's own row: `inserted` 1 (stored) or 0 (already
    /// there: a duplicate). Whether it was stored.
    pub fn report_rows(&mut self, inserted: usize) -> bool {
        if inserted == 0 {
            self.duplicates += 1;
            return false;
        }
        self.reports += inserted as u64;
        self.rows += inserted as u64;
        true
    }
}
