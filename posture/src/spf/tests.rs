use super::*;
use crate::dns::FakeDns;

fn run(dns: &FakeDns, domain: &str) -> (Spf, Vec<&'static str>) {
    let mut findings = Vec::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let spf = rt.block_on(check(dns, domain, &mut findings));
    (spf, findings.iter().map(|f| f.code).collect())
}

/// `domain` whose SPF costs `n` lookups: a chain of includes, each
/// record also spending one `a` lookup.
fn chain(n: usize) -> FakeDns {
    let mut dns = FakeDns::default();
    let mut left = n;
    let mut name = "example.com".to_owned();
    let mut i = 0;
    while left > 0 {
        let next = format!("s{i}.example.net");
        let (record, used) = if left >= 2 {
            (format!("v=spf1 a:host.example.net include:{next} -all"), 2)
        } else {
            ("v=spf1 a:host.example.net -all".to_owned(), 1)
        };
        dns = dns.with_txt(&name, &record);
        left -= used;
        name = next;
        i += 1;
    }
    dns.with_txt(&name, "v=spf1 ip4:192.0.2.1 -all")
        .with_address("host.example.net", "192.0.2.7")
}

#[test]
fn lookups_are_counted_through_the_tree() {
    for (n, codes) in [(9, vec![]), (10, vec![]), (11, vec!["spf.lookup_limit"])] {
        let (spf, found) = run(&chain(n), "example.com");
        assert_eq!(spf.lookups, n, "{n}");
        assert_eq!(spf.void_lookups, 0);
        assert_eq!(found, codes, "{n}");
        assert_eq!(spf.all.as_deref(), Some("-all"));
    }
    let (spf, _) = run(&chain(3), "example.com");
    let tree: Vec<(usize, &str)> = spf
        .tree
        .iter()
        .map(|n| (n.depth, n.term.as_str()))
        .collect();
    assert_eq!(
        tree,
        [
            (0, "a:host.example.net"),
            (0, "include:s0.example.net"),
            (1, "a:host.example.net"),
        ]
    );
}

#[test]
fn void_lookups_loops_and_missing_includes() {
    let dns = FakeDns::default()
        .with_txt(
            "example.com",
            "v=spf1 a:gone1.example.com a:gone2.example.com mx:gone3.example.com include:loop.example.net include:nospf.example.net ?all",
        )
        .with_txt("loop.example.net", "v=spf1 include:example.com -all")
        .with_txt("nospf.example.net", "google-site-verification=abc");
    let (spf, codes) = run(&dns, "example.com");
    assert_eq!(spf.lookups, 6);
    assert_eq!(spf.void_lookups, 3);
    assert_eq!(
        codes,
        [
            "spf.loop",
            "spf.include_missing",
            "spf.void_lookup_limit",
            "spf.all_neutral"
        ]
    );
    let notes: Vec<Option<&str>> = spf.tree.iter().map(|n| n.note.as_deref()).collect();
    assert_eq!(notes[0], Some("void lookup (no such name or no records)"));
    assert_eq!(notes[4], Some("loop"));
    assert_eq!(notes[5], Some("no SPF record"));
}

#[test]
fn records_receivers_reject_or_distrust() {
    let (_, codes) = run(&FakeDns::default(), "example.com");
    assert_eq!(codes, ["spf.missing"]);
    let two = FakeDns::default()
        .with_txt("example.com", "v=spf1 -all")
        .with_txt("example.com", "v=spf1 mx -all");
    assert_eq!(run(&two, "example.com").1, ["spf.multiple"]);
    let open = FakeDns::default().with_txt("example.com", "v=spf1 ptr ip4:10.0.0.0/33 +all");
    let (spf, codes) = run(&open, "example.com");
    assert_eq!(codes, ["spf.ptr", "spf.syntax", "spf.all_pass"]);
    assert_eq!(spf.lookups, 1);
    let macros = FakeDns::default().with_txt(
        "example.com",
        "v=spf1 exists:%{i}._spf.example.com redirect=_spf.example.com",
    );
    let (spf, codes) = run(&macros, "example.com");
    assert_eq!(spf.lookups, 2);
    assert_eq!(
        spf.tree[0].note.as_deref(),
        Some("has macros: counted, not followed")
    );
    assert_eq!(codes, ["spf.include_missing"]);
}

#[test]
fn a_hostile_chain_costs_a_bounded_number_of_queries() {
    let mut dns = FakeDns::default();
    for i in 0..1000 {
        dns = dns.with_txt(
            &format!("n{i}.example.net"),
            &format!("v=spf1 include:n{}.example.net -all", i + 1),
        );
    }
    dns = dns.with_txt("example.com", "v=spf1 include:n0.example.net -all");
    let (spf, codes) = run(&dns, "example.com");
    assert!(spf.lookups <= MAX_DEPTH + 1, "{}", spf.lookups);
    assert!(dns.queries.load(std::sync::atomic::Ordering::Relaxed) <= 12);
    assert_eq!(codes, ["spf.lookup_limit"]);
}
