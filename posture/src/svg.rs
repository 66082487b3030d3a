//! The basics of the SVG Tiny Portable/Secure profile BIMI logos must
//! follow (draft-brand-indicators-for-message-identification, "SVG Tiny
//! PS"): an `svg` root with `version="1.2"` and `baseProfile="tiny-ps"`, a
//! `title`, a square `viewBox`, no `x`/`y` on the root, and nothing that
//! runs or reaches out: no scripts, no raster or foreign content, no
//! links, no animation, no references outside the document, no DOCTYPE
//! (and so no entities). Reads at most what the fetch allowed
//! ([`crate::https::MAX_BODY`]); quick-xml does not expand entities.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Elements SVG Tiny PS leaves out because they run, load or move.
const FORBIDDEN: &[&str] = &[
    "script",
    "image",
    "foreignObject",
    "a",
    "animate",
    "animateColor",
    "animateMotion",
    "animateTransform",
    "set",
    "video",
    "audio",
    "iframe",
];

/// What keeps `svg` from the profile; empty when it follows the basics.
pub fn profile_problems(svg: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut reader = Reader::from_reader(svg);
    let mut buf = Vec::new();
    let mut root_seen = false;
    let mut title = false;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => {
                problems.push(format!("not well-formed XML ({e})"));
                break;
            }
        };
        match event {
            Event::Eof => break,
            Event::DocType(_) => push_once(&mut problems, "a DOCTYPE (entities are not allowed)"),
            Event::Start(e) | Event::Empty(e) => {
                let name = local_name(&e);
                if !root_seen {
                    root_seen = true;
                    if name != "svg" {
                        problems.push(format!("the root element is <{name}>, not <svg>"));
                        break;
                    }
                    root(&e, &mut problems);
                }
                if name == "title" {
                    title = true;
                }
                if FORBIDDEN.contains(&name.as_str()) {
                    push_once(&mut problems, &format!("a <{name}> element"));
                }
                for attribute in e.attributes().flatten() {
                    let key = attribute.key.local_name().as_ref().to_owned();
                    let value = attribute.value.to_string();
                    if key == "href" && !value.trim_start().starts_with('#') {
                        push_once(&mut problems, "a reference outside the document (href)");
                    }
                    if key.starts_with("on") {
                        push_once(&mut problems, &format!("an event handler ({key})"));
                    }
                    if value.contains("url(") && !value.contains("url(#") {
                        push_once(&mut problems, "a url() outside the document");
                    }
                }
            }
            _ => {}
        }
        buf.clear();
    }
    if !root_seen && problems.is_empty() {
        problems.push("no <svg> element".to_owned());
    }
    if root_seen && !title && problems.iter().all(|p| !p.starts_with("the root element")) {
        problems.push("no <title>".to_owned());
    }
    problems
}

fn local_name(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_owned()
}

/// The root's version, profile, position and shape.
fn root(e: &BytesStart<'_>, problems: &mut Vec<String>) {
    let attribute = |name: &str| {
        e.attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == name)
            .map(|a| a.value.to_string())
    };
    if attribute("baseProfile").as_deref() != Some("tiny-ps") {
        problems.push("the root's baseProfile is not \"tiny-ps\"".to_owned());
    }
    if attribute("version").as_deref() != Some("1.2") {
        problems.push("the root's version is not \"1.2\"".to_owned());
    }
    if attribute("x").is_some() || attribute("y").is_some() {
        problems.push("x or y on the root".to_owned());
    }
    match attribute("viewBox") {
        None => problems.push("no viewBox".to_owned()),
        Some(view) => {
            let numbers: Vec<f64> = view
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.parse().ok())
                .collect();
            match numbers.as_slice() {
                [_, _, w, h] if (w - h).abs() < f64::EPSILON && *w > 0.0 => {}
                [_, _, w, h] => problems.push(format!("not square (viewBox {w} by {h})")),
                _ => problems.push(format!("an unreadable viewBox {view:?}")),
            }
        }
    }
}

fn push_once(problems: &mut Vec<String>, problem: &str) {
    if !problems.iter().any(|p| p == problem) {
        problems.push(problem.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps" viewBox="0 0 100 100">
  <title>Example</title>
  <defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>
  <rect width="100" height="100" fill="url(#g)"/>
  <use href="#g"/>
</svg>"##;

    #[test]
    fn a_profile_logo_passes() {
        assert_eq!(profile_problems(GOOD.as_bytes()), Vec::<String>::new());
    }

    #[test]
    fn each_departure_is_named() {
        let bad = r#"<!DOCTYPE svg [<!ENTITY x "y">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" x="0" viewBox="0 0 100 50" onload="go()">
  <script>go()</script>
  <image xlink:href="https://tracker.example/p.png"/>
  <rect fill="url(https://x.example/f)"/>
</svg>"#;
        let problems = profile_problems(bad.as_bytes());
        for expected in [
            "a DOCTYPE (entities are not allowed)",
            "the root's baseProfile is not \"tiny-ps\"",
            "the root's version is not \"1.2\"",
            "x or y on the root",
            "not square (viewBox 100 by 50)",
            "an event handler (onload)",
            "a <script> element",
            "a <image> element",
            "a reference outside the document (href)",
            "a url() outside the document",
            "no <title>",
        ] {
            assert!(
                problems.iter().any(|p| p == expected),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn not_svg_at_all() {
        assert!(
            profile_problems(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")[0].starts_with("not well-formed")
        );
        assert_eq!(profile_problems(b"  "), vec!["no <svg> element".to_owned()]);
        assert_eq!(
            profile_problems(b"<html><body/></html>"),
            vec!["the root element is <html>, not <svg>".to_owned()]
        );
        assert!(profile_problems(b"<svg><g></svg>")
            .iter()
            .any(|p| p.starts_with("not well-formed")));
    }
}
