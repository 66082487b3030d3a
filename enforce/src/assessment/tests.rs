use super::*;

fn scope() -> Scope {
    Scope::new("example.com", "2024-01-01", "2024-01-31").unwrap_or_else(|e| panic!("{e}"))
}

fn t(sender: &str, kind: &str, outcome: (bool, bool, bool, bool), messages: u64) -> Traffic {
    let (dkim_aligned, spf_aligned, dkim_pass, spf_pass) = outcome;
    Traffic {
        sender: sender.into(),
        kind: kind.into(),
        dkim_aligned,
        spf_aligned,
        dkim_pass,
        spf_pass,
        messages,
        sources: 1,
        ..Traffic::default()
    }
}

const PASS: (bool, bool, bool, bool) = (true, true, true, true);
const OWN_DOMAIN_ONLY: (bool, bool, bool, bool) = (false, false, true, true);
const NOTHING: (bool, bool, bool, bool) = (false, false, false, false);

fn policy(p: &str) -> Policy {
    Policy {
        p: p.into(),
        ..Policy::default()
    }
}

#[test]
fn a_misaligned_platform_blocks_with_the_catalogues_fix() {
    let mut sendgrid = t("SendGrid", "esp", OWN_DOMAIN_ONLY, 12_310);
    sendgrid.dkim_domains = vec!["sendgrid.net".into()];
    let traffic = [
        t("Google", "email provider", PASS, 500_000),
        sendgrid,
        t("203.0.113.9", "", NOTHING, 4_000),
    ];
    let a = judge(
        &scope(),
        policy("none"),
        &traffic,
        &EnforcementConfig::default(),
        &SenderMap::builtin(),
    );
    assert_eq!(a.verdict, Verdict::NotReady);
    assert_eq!(a.messages, 516_310);
    assert_eq!(
        (a.would_lose.messages, a.would_block.messages),
        (12_310, 4_000)
    );
    assert_eq!(a.next_step.as_deref(), Some("p=quarantine; pct=25"));
    assert_eq!(a.blockers.len(), 1);
    let fix = &a.blockers[0].fix;
    assert!(
        fix.starts_with("SendGrid sends 12,310 messages as example.com signed d=sendgrid.net that fail DMARC: Authenticate the domain in SendGrid")
            && fix.ends_with("see https://www.twilio.com/docs/sendgrid/ui/account-and-settings/how-to-set-up-domain-authentication"),
        "{fix}"
    );
    let classes: Vec<(&str, SourceClass)> = a
        .senders
        .iter()
        .map(|s| (s.sender.as_str(), s.class))
        .collect();
    assert_eq!(
        classes,
        [
            ("Google", SourceClass::Aligned),
            ("SendGrid", SourceClass::Misaligned),
            ("203.0.113.9", SourceClass::Unauthorised)
        ]
    );
}

#[test]
fn spoofing_alone_does_not_block_and_an_approved_sender_always_does() {
    let traffic = [
        t("Google", "email provider", PASS, 100_000),
        t("OVH", "network", NOTHING, 30_000),
        t("Our Relay", "", NOTHING, 50),
    ];
    let catalogue = SenderMap::builtin();
    let a = judge(
        &scope(),
        policy("none"),
        &traffic[..2],
        &EnforcementConfig::default(),
        &catalogue,
    );
    assert_eq!(a.verdict, Verdict::Ready, "{a:#?}");
    assert_eq!(a.would_block.messages, 30_000);
    assert!(a.blockers.is_empty());

    // 50 of 130,050 (0.04%) is under 0.1%, but the owner approved the relay.
    let mut config = EnforcementConfig::default();
    config
        .approved_senders
        .insert("example.com".into(), vec!["our relay".into()]);
    let a = judge(
        &scope(),
        policy("quarantine"),
        &traffic,
        &config,
        &catalogue,
    );
    assert_eq!(a.verdict, Verdict::NotReady);
    assert_eq!(a.next_step.as_deref(), Some("p=reject"));
    assert_eq!(
        (
            a.blockers[0].sender.as_str(),
            a.blockers[0].approved,
            a.blockers[0].messages
        ),
        ("Our Relay", true, 50)
    );
    assert!(a.blockers[0]
        .fix
        .contains("sign its mail with a DKIM key of example.com"));

    // Enforced whatever still fails.
    let a = judge(&scope(), policy("reject"), &traffic, &config, &catalogue);
    assert_eq!((a.verdict, a.next_step), (Verdict::Enforced, None));
}

#[test]
fn forwarded_mail_is_shown_apart() {
    let mut list = t("lists.example.org", "", NOTHING, 700);
    list.forwarding_reason = true;
    let traffic = [
        t("Google", "email provider", PASS, 10_000),
        list,
        // DKIM survived a forwarder, SPF did not: passes, forwarded.
        t("Forwarder", "", (true, false, true, false), 300),
    ];
    let a = judge(
        &scope(),
        policy("none"),
        &traffic,
        &EnforcementConfig::default(),
        &SenderMap::builtin(),
    );
    assert_eq!(a.forwarded.messages, 700);
    assert_eq!((a.would_lose.messages, a.would_block.messages), (0, 0));
    assert_eq!(a.verdict, Verdict::Ready);
    assert!(a
        .senders
        .iter()
        .all(|s| s.sender == "Google" || s.class == SourceClass::Forwarded));
}

#[test]
fn digits_are_grouped() {
    assert_eq!(group_digits(0), "0");
    assert_eq!(group_digits(999), "999");
    assert_eq!(group_digits(12_310), "12,310");
    assert_eq!(group_digits(1_234_567), "1,234,567");
}
