use std::collections::HashSet;

use super::*;

/// The base domain of a name under the Public Suffix List.
fn base(name: &str) -> Option<String> {
    psl::domain_str(name).map(str::to_owned)
}

#[test]
fn the_project_catalogue_holds_together() {
    let file: File = toml::from_str(BUILTIN).unwrap_or_else(|e| panic!("{e}"));
    assert!(file.sender.len() >= 20, "{} entries", file.sender.len());
    let mut claimed: HashSet<String> = HashSet::new();
    let mut names: HashSet<String> = HashSet::new();
    for entry in &file.sender {
        let name = &entry.name;
        assert!(names.insert(name.to_lowercase()), "{name} twice");
        assert!(
            !matches!(SenderKind::parse(&entry.kind), SenderKind::Other(_)),
            "{name}: unknown type {:?}",
            entry.kind
        );
        assert!(entry.domain.is_none(), "{name}: use ptr/dkim/envelope");
        for (what, keys) in [
            ("ptr", &entry.ptr),
            ("dkim", &entry.dkim),
            ("envelope", &entry.envelope),
        ] {
            for domain in keys {
                assert_eq!(key(domain), *domain, "{name}: {domain} not in lower case");
                assert_eq!(
                    base(domain).as_deref(),
                    Some(domain.as_str()),
                    "{name}: {what} {domain} is not a base domain"
                );
                assert!(
                    claimed.insert(format!("{what} {domain}")),
                    "{what} {domain} claimed twice"
                );
            }
        }
        for asn in &entry.asn {
            assert!(
                claimed.insert(format!("asn {asn}")),
                "AS{asn} claimed twice"
            );
        }
        let docs = entry.docs.as_deref().unwrap_or_default();
        let host = docs
            .strip_prefix("https://")
            .and_then(|rest| rest.split('/').next());
        assert!(
            host.is_some_and(|h| h.contains('.') && !h.contains(' ')) && !docs.contains(' '),
            "{name}: documentation URL {docs:?}"
        );
        let align = entry.align.as_deref().unwrap_or_default();
        assert!(
            !align.is_empty() && !align.contains('\n') && align.len() <= 300,
            "{name}: align {align:?}"
        );
    }
    let map = SenderMap::builtin();
    assert_eq!(map.len(), file.sender.len());
}

#[test]
fn each_signal_finds_its_sender() {
    let map = SenderMap::builtin();
    let name = |s: Option<&Sender>| s.map(|s| s.name.clone());
    assert_eq!(name(map.by_ptr("google.com")).as_deref(), Some("Google"));
    assert_eq!(
        name(map.bouncing("sendgrid.net")).as_deref(),
        Some("SendGrid")
    );
    assert_eq!(name(map.signing("mcsv.net")).as_deref(), Some("Mailchimp"));
    assert_eq!(
        name(map.bouncing("amazonses.com")).as_deref(),
        Some("Amazon SES")
    );
    assert_eq!(name(map.by_ptr("example.org")), None);
    assert_eq!(
        name(map.signing("bounce.mcsv.net")).as_deref(),
        Some("Mailchimp")
    );
    assert_eq!(
        name(map.bouncing("us-east-1.amazonses.com")).as_deref(),
        Some("Amazon SES")
    );
    assert_eq!(name(map.signing("mcsv.net.example.org")), None);
    assert_eq!(
        map.by_name("sendgrid").map(|s| s.kind.clone()),
        Some(SenderKind::Esp)
    );
    let sendgrid = map.by_name("SendGrid").unwrap_or_else(|| panic!("listed"));
    assert!(sendgrid
        .docs
        .as_deref()
        .is_some_and(|d| d.starts_with("https://")));
}

#[test]
fn user_entries_add_and_replace() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("senders.toml");
    std::fs::write(
        &path,
        "[[sender]]\ndomain = \"Example.COM.\"\nname = \"Our relay\"\ntype = \"relay\"\n\n\
         [[sender]]\nname = \"Our ESP\"\ntype = \"esp\"\ndkim = [\"sendgrid.net\"]\nasn = [64500]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let map = SenderMap::with_user_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let ours = map.by_ptr("example.com").unwrap_or_else(|| panic!("added"));
    assert_eq!(ours.kind, SenderKind::Other("relay".into()));
    assert_eq!(
        map.signing("sendgrid.net").map(|s| s.name.as_str()),
        Some("Our ESP")
    );
    assert_eq!(map.by_asn(64500).map(|s| s.name.as_str()), Some("Our ESP"));
    // SendGrid keeps its other keys.
    assert_eq!(
        map.bouncing("sendgrid.net").map(|s| s.name.as_str()),
        Some("SendGrid")
    );

    std::fs::write(&path, "[[sender]]\nname = \"x\"\ntype = \"esp\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let err = SenderMap::with_user_file(&path).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("no key"), "{err}");
}
