//! The digest as A4 pages: the same sections as the HTML, drawn with
//! `pdf-writer` in the standard Helvetica (WinAnsi; a character it cannot
//! show becomes `?`), the chart as filled rectangles and a line. Sections
//! move to a new page when they would not fit.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

use crate::chart::{chart, WIDTH};
use crate::html::thousands;
use crate::Digest;
use dmarcflow_store::Table;

const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 40.0;
const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");

/// Text the standard fonts can show.
fn latin(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Pages being written, top to bottom.
struct Pages {
    done: Vec<Content>,
    page: Content,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        Self {
            done: Vec::new(),
            page: Content::new(),
            y: PAGE.1 - MARGIN,
        }
    }

    /// Room for `height` more points, else a new page.
    fn room(&mut self, height: f32) {
        if self.y - height < MARGIN {
            let full = std::mem::replace(&mut self.page, Content::new());
            self.done.push(full);
            self.y = PAGE.1 - MARGIN;
        }
    }

    fn text(&mut self, x: f32, y: f32, font: Name, size: f32, text: &str) {
        let bytes = latin(text);
        self.page
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    fn line(&mut self, font: Name, size: f32, text: &str) {
        self.room(size + 6.0);
        self.y -= size + 6.0;
        let y = self.y;
        self.text(MARGIN, y, font, size, text);
    }

    /// `text` in lines of at most `width` characters, cut at spaces.
    fn paragraph(&mut self, font: Name, size: f32, width: usize, text: &str) {
        let mut line = String::new();
        for word in text.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                self.line(font, size, &line);
                line = String::from("    ");
            }
            if !line.trim().is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.trim().is_empty() {
            self.line(font, size, &line);
        }
    }

    fn heading(&mut self, text: &str) {
        self.room(40.0);
        self.y -= 10.0;
        self.line(BOLD, 13.0, text);
        self.y -= 2.0;
    }

    /// A table: columns as wide as their longest cell (cells cut at 72
    /// characters), numbers right-aligned.
    fn table(&mut self, t: &Table, empty: &str) {
        if t.rows.is_empty() {
            self.line(REGULAR, 9.0, empty);
            return;
        }
        let cut = |s: &str| s.chars().take(72).collect::<String>();
        let mut widths: Vec<f32> = t.columns.iter().map(|c| c.chars().count() as f32).collect();
        for row in &t.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = w.max(cut(cell).chars().count() as f32);
            }
        }
        // Helvetica's digits are 0.556 em; an average letter about that.
        let char_width = 9.0 * 0.56;
        let scale = ((PAGE.0 - 2.0 * MARGIN)
            / (widths.iter().sum::<f32>() * char_width + 12.0 * widths.len() as f32))
            .min(1.0);
        let xs: Vec<(f32, f32)> = widths
            .iter()
            .scan(MARGIN, |x, w| {
                let width = (w * char_width + 12.0) * scale;
                let at = *x;
                *x += width;
                Some((at, width))
            })
            .collect();
        let size = 9.0 * scale.max(0.7);
        let row = |pages: &mut Pages, cells: &[String], font: Name| {
            pages.room(size + 4.0);
            pages.y -= size + 4.0;
            let y = pages.y;
            for ((x, width), cell) in xs.iter().zip(cells) {
                let cell = cut(cell);
                let numeric = cell.parse::<f64>().is_ok();
                let x = if numeric {
                    x + width - 12.0 * scale - cell.chars().count() as f32 * size * 0.556
                } else {
                    *x
                };
                pages.text(x, y, font, size, &cell);
            }
        };
        row(self, &t.columns, BOLD);
        for cells in &t.rows {
            row(self, cells, REGULAR);
        }
    }

    fn chart(&mut self, d: &Digest) {
        let c = chart(&d.days);
        let s = (PAGE.0 - 2.0 * MARGIN) / WIDTH;
        let height = crate::chart::HEIGHT * s;
        self.room(height + 10.0);
        let top = self.y - 4.0;
        let (px, py) = (MARGIN, top);
        let map = |x: f32, y: f32| (px + x * s, py - y * s);
        let (x0, y0, w, h) = c.plot;
        let (ax, ay) = map(x0, y0 + h);
        self.page
            .set_stroke_rgb(0.8, 0.8, 0.8)
            .set_line_width(0.5)
            .rect(ax, ay, w * s, h * s)
            .stroke();
        for b in &c.bars {
            let (x, y) = map(b.x, b.pass.0 + b.pass.1);
            self.page
                .set_fill_rgb(0.23, 0.62, 0.36)
                .rect(x, y, b.width * s, b.pass.1 * s)
                .fill_nonzero();
            let (x, y) = map(b.x, b.fail.0 + b.fail.1);
            self.page
                .set_fill_rgb(0.84, 0.27, 0.25)
                .rect(x, y, b.width * s, b.fail.1 * s)
                .fill_nonzero();
        }
        if let Some((first, rest)) = c.rate.split_first() {
            let (x, y) = map(first.0, first.1);
            self.page
                .set_stroke_rgb(0.12, 0.31, 0.61)
                .set_line_width(1.5)
                .move_to(x, y);
            for (x, y) in rest {
                let (x, y) = map(*x, *y);
                self.page.line_to(x, y);
            }
            self.page.stroke();
        }
        self.page.set_fill_rgb(0.27, 0.27, 0.27);
        let (lx, ly) = map(x0 - 40.0, y0 + 8.0);
        self.text(lx, ly, REGULAR, 7.0, &c.max.to_string());
        let (lx, ly) = map(x0 - 14.0, y0 + h);
        self.text(lx, ly, REGULAR, 7.0, "0");
        let (lx, ly) = map(x0 + w + 4.0, y0 + 8.0);
        self.text(lx, ly, REGULAR, 7.0, "100%");
        let (lx, ly) = map(x0 + w + 4.0, y0 + h);
        self.text(lx, ly, REGULAR, 7.0, "0%");
        for (x, label) in &c.labels {
            let (lx, ly) = map(*x - 12.0, y0 + h + 16.0);
            self.text(lx, ly, REGULAR, 7.0, label);
        }
        self.y = top - height;
        self.line(
            REGULAR,
            8.0,
            "Green: passing DMARC; red: failing; blue line: pass rate (0-100%).",
        );
    }

    fn finish(mut self) -> Vec<Content> {
        self.done.push(self.page);
        self.done
    }
}

pub fn render(d: &Digest) -> Vec<u8> {
    let mut pages = Pages::new();
    pages.line(BOLD, 16.0, &format!("DMARC report for {}", d.domain));
    pages.line(REGULAR, 10.0, &format!("From {} to {}", d.from, d.to));
    pages.y -= 4.0;
    pages.line(
        REGULAR,
        10.0,
        &format!(
            "Messages: {}    DMARC pass: {}    Fail: {}    Pass rate: {:.1}%",
            thousands(d.messages()),
            thousands(d.pass()),
            thousands(d.fail()),
            d.pass_rate()
        ),
    );
    if let Some(a) = &d.enforcement {
        use dmarcflow_enforce::text;
        pages.heading("The path to enforcement");
        for line in text::summary(a) {
            pages.paragraph(REGULAR, 9.0, 110, &line);
        }
        let fixes = text::fixes(a);
        if !fixes.is_empty() {
            pages.line(BOLD, 9.0, "Fix first:");
            for fix in fixes {
                pages.paragraph(REGULAR, 9.0, 110, &format!("- {fix}"));
            }
        }
        pages.heading("Who sends as the domain");
        pages.table(&text::senders(a), "No senders in the period.");
    }
    if let Some(p) = &d.posture {
        pages.heading("Domain posture");
        pages.paragraph(REGULAR, 9.0, 110, &p.summary);
        // Paragraphs, not a table: a finding is a sentence, longer than a
        // table cell holds.
        if p.findings.rows.is_empty() {
            pages.line(
                REGULAR,
                9.0,
                "Nothing to fix: no critical finding, no warning.",
            );
        }
        for row in &p.findings.rows {
            if let [severity, code, finding] = row.as_slice() {
                pages.paragraph(
                    REGULAR,
                    9.0,
                    110,
                    &format!("- {severity} {code}: {finding}"),
                );
            }
        }
        if let Some(more) = &p.more {
            pages.line(REGULAR, 9.0, more);
        }
    }
    pages.heading("Volume and pass rate per day");
    pages.chart(d);
    pages.heading("By result");
    pages.table(&d.results, "No aggregate reports in the period.");
    pages.heading("By source");
    pages.table(&d.sources, "No sources in the period.");
    pages.heading("Top failing sources");
    pages.table(&d.failing, "No source failed DMARC in the period.");
    pages.heading("TLS-RPT sessions by result and MX host");
    if let Some(sts) = &d.mta_sts {
        pages.paragraph(REGULAR, 9.0, 110, &sts.summary());
    }
    pages.table(&d.tls, "No TLS reports in the period.");
    pages.heading("TLS-RPT sessions by reporter and sending network");
    pages.table(&d.tls_sources, "No TLS reports in the period.");
    pages.heading("Alerts");
    pages.table(&d.alerts, "No alerts in the period.");
    let contents = pages.finish();

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let (regular, bold) = (Ref::new(3), Ref::new(4));
    let ids: Vec<(Ref, Ref)> = (0..contents.len() as i32)
        .map(|i| (Ref::new(5 + 2 * i), Ref::new(6 + 2 * i)))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|(page, _)| *page))
        .count(ids.len() as i32);
    for ((page, content), stream) in ids.iter().zip(contents) {
        let mut p = pdf.page(*page);
        p.parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1))
            .contents(*content);
        p.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
        drop(p);
        pdf.stream(*content, &stream.finish());
    }
    for (id, name) in [
        (regular, b"Helvetica".as_slice()),
        (bold, b"Helvetica-Bold".as_slice()),
    ] {
        pdf.type1_font(id)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_with_pages() {
        let mut d = Digest {
            domain: "example.com".into(),
            from: "2024-01-01".into(),
            to: "2024-01-31".into(),
            ..Digest::default()
        };
        d.sources.columns = vec!["source".into(), "total".into()];
        d.sources.rows = (0..120)
            .map(|i| vec![format!("192.0.2.{i}"), "1".into()])
            .collect();
        let bytes = render(&d);
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        // 120 rows do not fit one page.
        assert!(
            text.contains("/Count 2") || text.contains("/Count 3"),
            "pages"
        );
        assert_eq!(latin("é€x"), vec![0xe9, b'?', b'x']);
    }
}
