//! Naming a source: which sender is behind an address, from the strongest
//! signal to the weakest. The address alone gives its PTR name and its
//! network; the record it appears in gives the domains that authenticated
//! its mail. In order:
//! 1. `ptr`: the PTR name's base domain is a catalogue entry's. The host
//!    that connected is the sender (a forwarder's relay is the forwarder,
//!    whoever signed the mail it forwards).
//! 2. `dkim`: a passing DKIM signature's `d=` is a domain a platform signs
//!    with for customers who have not set up their own (Mailchimp signs
//!    `d=mcsv.net`): the platform is identified even when its address has
//!    no PTR name. Only passing signatures count: anyone can write a `d=`.
//! 3. `envelope`: SPF passed for a platform's bounce domain (`amazonses.com`):
//!    the address is one the platform publishes as its own.
//! 4. `asn`, `as_domain`: the network is a catalogue entry's, by number or
//!    by its own domain.
//! 5. `as_name`: no entry matched; the network's organisation, its legal
//!    form dropped, type `network`. With a network database configured,
//!    every source has a name.
//!
//! 1, 4 and 5 need only the address (and are cached with it); 2 and 3 are
//! the record's, applied to each record's copy of its address's source.

use dmarcflow_schemas::aggregate::Record;
use dmarcflow_schemas::Source;
use dmarcflow_senders::{organisation_name, Sender, SenderKind};

use crate::Enricher;

impl Enricher {
    /// Names `source` from what its address alone says (signals 1, 4, 5).
    pub(crate) fn name_address(&self, source: &mut Source) {
        let senders = &self.senders;
        let as_base = source
            .as_domain
            .as_deref()
            .and_then(|d| self.suffixes.base_domain(d));
        let found = source
            .base_domain
            .as_deref()
            .and_then(|d| senders.by_ptr(d))
            .map(|s| (s, "ptr"))
            .or_else(|| {
                source
                    .asn
                    .and_then(|n| senders.by_asn(n))
                    .map(|s| (s, "asn"))
            })
            .or_else(|| {
                as_base
                    .as_deref()
                    .and_then(|d| senders.by_ptr(d))
                    .map(|s| (s, "as_domain"))
            });
        match found {
            Some((sender, signal)) => named(source, sender, signal),
            None => {
                if let Some(name) = source.as_name.as_deref().and_then(organisation_name) {
                    source.name = Some(name);
                    source.kind = Some(SenderKind::Network.as_str().to_owned());
                    source.identified_by = Some("as_name".to_owned());
                }
            }
        }
    }

    /// Names a record's source from the record's own passing DKIM and SPF
    /// domains (signals 2, 3) where its PTR name did not.
    pub fn identify(&self, record: &mut Record<'_>) {
        let Record {
            source,
            dkim_results,
            spf_results,
            ..
        } = record;
        let Some(source) = source.as_deref_mut() else {
            return;
        };
        if source.identified_by.as_deref() == Some("ptr") {
            return;
        }
        let by_dkim = dkim_results
            .iter()
            .filter(|d| d.result.as_str() == "pass")
            .find_map(|d| self.senders.signing(&d.domain))
            .map(|s| (s, "dkim"));
        let found = by_dkim.or_else(|| {
            spf_results
                .iter()
                .filter(|s| s.result.as_str() == "pass")
                .find_map(|s| self.senders.bouncing(&s.domain))
                .map(|s| (s, "envelope"))
        });
        if let Some((sender, signal)) = found {
            named(source, sender, signal);
        }
    }
}

fn named(source: &mut Source, sender: &Sender, signal: &str) {
    source.name = Some(sender.name.clone());
    source.kind = Some(sender.kind.as_str().to_owned());
    source.identified_by = Some(signal.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmarcflow_schemas::aggregate::{DkimAuth, DkimResult, SpfAuth, SpfResult};
    use dmarcflow_senders::SenderMap;

    fn enricher() -> Enricher {
        let mut senders = SenderMap::default();
        let added = senders.add(
            "[[sender]]\nname = \"Platform\"\ntype = \"esp\"\nptr = [\"platform.example\"]\n\
             dkim = [\"platform-sign.example\"]\nenvelope = [\"platform-bounce.example\"]\nasn = [64500]\n\n\
             [[sender]]\nname = \"Hoster\"\ntype = \"web host\"\nptr = [\"hoster.example\"]\n",
        );
        assert_eq!(added, Ok(2));
        Enricher {
            senders,
            ..Enricher::default()
        }
    }

    fn address(ptr_base: Option<&str>, asn: Option<u32>, as_name: Option<&str>) -> Source {
        let enricher = enricher();
        let mut source = Source {
            ip: "192.0.2.1".into(),
            base_domain: ptr_base.map(str::to_owned),
            asn,
            as_name: as_name.map(str::to_owned),
            ..Source::default()
        };
        enricher.name_address(&mut source);
        source
    }

    fn record(source: Source, dkim: &[(&str, &str)], spf: &[(&str, &str)]) -> Record<'static> {
        let mut r = Record {
            source_ip: "192.0.2.1".into(),
            source: Some(Box::new(source)),
            ..Record::default()
        };
        for (domain, result) in dkim {
            r.dkim_results.push(DkimAuth {
                domain: domain.to_string().into(),
                selector: None,
                result: DkimResult::from_text(result.to_string().into()).0,
                human_result: None,
            });
        }
        for (domain, result) in spf {
            r.spf_results.push(SpfAuth {
                domain: domain.to_string().into(),
                scope: None,
                result: SpfResult::from_text(result.to_string().into()).0,
                human_result: None,
            });
        }
        r
    }

    fn named_as<'r>(r: &'r Record<'_>) -> (Option<&'r str>, Option<&'r str>, Option<&'r str>) {
        let s = r.source.as_deref();
        (
            s.and_then(|s| s.name.as_deref()),
            s.and_then(|s| s.kind.as_deref()),
            s.and_then(|s| s.identified_by.as_deref()),
        )
    }

    #[test]
    fn the_address_names_by_ptr_then_network_then_organisation() {
        let s = address(
            Some("hoster.example"),
            Some(64500),
            Some("Hoster Networks Ltd"),
        );
        assert_eq!(
            (s.name.as_deref(), s.identified_by.as_deref()),
            (Some("Hoster"), Some("ptr"))
        );
        let s = address(None, Some(64500), Some("Platform Inc."));
        assert_eq!(
            (s.name.as_deref(), s.identified_by.as_deref()),
            (Some("Platform"), Some("asn"))
        );
        let s = address(Some("nobody.example"), Some(64999), Some("OVH SAS"));
        assert_eq!(
            (
                s.name.as_deref(),
                s.kind.as_deref(),
                s.identified_by.as_deref()
            ),
            (Some("OVH"), Some("network"), Some("as_name"))
        );
        let s = address(None, None, None);
        assert_eq!((s.name, s.identified_by), (None, None));
    }

    #[test]
    fn a_record_names_its_source_by_passing_dkim_then_spf() {
        let enricher = enricher();
        let unnamed = || address(None, Some(64999), Some("Example Cloud"));
        // A passing platform signature names it, over the network's name.
        let mut r = record(unnamed(), &[("mail.platform-sign.example", "pass")], &[]);
        enricher.identify(&mut r);
        assert_eq!(named_as(&r), (Some("Platform"), Some("esp"), Some("dkim")));
        // A failing one does not: anyone can write a d=.
        let mut r = record(unnamed(), &[("platform-sign.example", "fail")], &[]);
        enricher.identify(&mut r);
        assert_eq!(
            named_as(&r),
            (Some("Example Cloud"), Some("network"), Some("as_name"))
        );
        // SPF passing for the platform's bounce domain.
        let mut r = record(
            unnamed(),
            &[("other.example", "pass")],
            &[("bounces.platform-bounce.example", "pass")],
        );
        enricher.identify(&mut r);
        assert_eq!(
            named_as(&r),
            (Some("Platform"), Some("esp"), Some("envelope"))
        );
        // The PTR name stays: the host that connected is the sender.
        let mut r = record(
            address(Some("hoster.example"), None, None),
            &[("platform-sign.example", "pass")],
            &[],
        );
        enricher.identify(&mut r);
        assert_eq!(
            named_as(&r),
            (Some("Hoster"), Some("web host"), Some("ptr"))
        );
    }
}
