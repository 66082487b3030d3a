//! Volume and DMARC pass rate over the days: one bar per day (passing
//! messages below, failing above), the pass rate as a line on a 0-100%
//! scale. The shapes are computed once, in a box of `WIDTH` x `HEIGHT`
//! with y growing downwards, and drawn as SVG here or by the PDF writer.

use crate::Day;

pub const WIDTH: f32 = 720.0;
pub const HEIGHT: f32 = 240.0;
/// Room for the axis labels.
const LEFT: f32 = 56.0;
const RIGHT: f32 = 44.0;
const TOP: f32 = 12.0;
const BOTTOM: f32 = 28.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f32,
    pub width: f32,
    /// The passing part: top and height.
    pub pass: (f32, f32),
    /// The failing part, stacked on it.
    pub fail: (f32, f32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub bars: Vec<Bar>,
    /// The pass rate per day, at each bar's middle.
    pub rate: Vec<(f32, f32)>,
    /// The largest day's messages (the left axis' top).
    pub max: u64,
    /// (x, label) under the bars: the first and last day, and some between.
    pub labels: Vec<(f32, String)>,
    pub plot: (f32, f32, f32, f32),
}

pub fn chart(days: &[Day]) -> Chart {
    let (x0, y0) = (LEFT, TOP);
    let (w, h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let max = days.iter().map(|d| d.messages).max().unwrap_or(0).max(1);
    let slot = w / days.len().max(1) as f32;
    let scale = |n: u64| h * n as f32 / max as f32;
    let mut bars = Vec::new();
    let mut rate = Vec::new();
    let mut labels = Vec::new();
    let every = (days.len() / 6).max(1);
    for (i, d) in days.iter().enumerate() {
        let x = x0 + slot * i as f32 + slot * 0.15;
        let width = slot * 0.7;
        let pass_h = scale(d.pass);
        let fail_h = scale(d.fail.min(d.messages.saturating_sub(d.pass)));
        let base = y0 + h;
        bars.push(Bar {
            x,
            width,
            pass: (base - pass_h, pass_h),
            fail: (base - pass_h - fail_h, fail_h),
        });
        if d.messages > 0 {
            let r = d.pass as f32 / d.messages as f32;
            rate.push((x + width / 2.0, y0 + h * (1.0 - r)));
        }
        if i % every == 0 || i + 1 == days.len() {
            labels.push((x + width / 2.0, d.day.get(5..).unwrap_or(&d.day).to_owned()));
        }
    }
    Chart {
        bars,
        rate,
        max,
        labels,
        plot: (x0, y0, w, h),
    }
}

/// The chart as an SVG element (inline in the HTML).
pub fn svg(c: &Chart) -> String {
    let (x0, y0, w, h) = c.plot;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-label=\"Messages and DMARC pass rate per day\">\n"
    );
    out.push_str(&format!(
        "<rect x=\"{x0}\" y=\"{y0}\" width=\"{w}\" height=\"{h}\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n"
    ));
    for b in &c.bars {
        out.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#3a9d5d\"/>",
            b.x, b.pass.0, b.width, b.pass.1
        ));
        out.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#d64541\"/>\n",
            b.x, b.fail.0, b.width, b.fail.1
        ));
    }
    if !c.rate.is_empty() {
        let points: Vec<String> = c
            .rate
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        out.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f4e9c\" stroke-width=\"2\"/>\n",
            points.join(" ")
        ));
    }
    let text = |x: f32, y: f32, anchor: &str, t: &str| {
        format!("<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#444\">{t}</text>\n")
    };
    out.push_str(&text(x0 - 6.0, y0 + 10.0, "end", &c.max.to_string()));
    out.push_str(&text(x0 - 6.0, y0 + h, "end", "0"));
    out.push_str(&text(x0 + w + 6.0, y0 + 10.0, "start", "100%"));
    out.push_str(&text(x0 + w + 6.0, y0 + h, "start", "0%"));
    for (x, label) in &c.labels {
        out.push_str(&text(*x, y0 + h + 16.0, "middle", label));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_rate() {
        let days = [
            Day {
                day: "2024-01-01".into(),
                messages: 100,
                pass: 90,
                fail: 10,
            },
            Day {
                day: "2024-01-02".into(),
                messages: 50,
                pass: 50,
                fail: 0,
            },
        ];
        let c = chart(&days);
        assert_eq!(c.max, 100);
        let (_, y0, _, h) = c.plot;
        // The first bar is full height: 90% passing, 10% failing on top.
        assert!((c.bars[0].pass.1 - h * 0.9).abs() < 0.01);
        assert!((c.bars[0].fail.0 - y0).abs() < 0.01);
        // 100% passing on day 2: the line at the top.
        assert!((c.rate[1].1 - y0).abs() < 0.01);
        assert_eq!(c.labels.last().map(|l| l.1.as_str()), Some("01-02"));
        assert!(svg(&c).starts_with("<svg"));
    }
}
