//! A query result as text: column names and rows, printed as an aligned
//! table or tab-separated values.

use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Tab-separated, header first (what `dmarcflow query` prints).
    pub fn to_tsv(&self) -> String {
        let mut out = self.columns.join("\t");
        out.push('\n');
        for row in &self.rows {
            out.push_str(&row.join("\t"));
            out.push('\n');
        }
        out
    }

    /// Columns padded to their widest cell, numbers right-aligned.
    pub fn to_aligned(&self) -> String {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let sep = if i == 0 { "" } else { "  " };
                // A number (or a percentage); an IPv4 address is text.
                let numeric = cell.trim_end_matches('%').parse::<f64>().is_ok();
                let _ = if numeric {
                    write!(out, "{sep}{cell:>w$}")
                } else {
                    write!(out, "{sep}{cell:<w$}")
                };
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
        };
        line(&self.columns, &mut out);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&rule, &mut out);
        for row in &self.rows {
            line(row, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders() {
        let t = super::Table {
            columns: vec!["source".into(), "messages".into()],
            rows: vec![vec!["192.0.2.1".into(), "12".into()]],
        };
        assert_eq!(t.to_tsv(), "source\tmessages\n192.0.2.1\t12\n");
        assert_eq!(
            t.to_aligned(),
            "source     messages\n---------  --------\n192.0.2.1        12\n"
        );
    }
}
