//! A network's organisation as a sender's name: what a network database
//! says owns an address (`OVH SAS`, `Amazon.com, Inc.`, `Free SAS`), with
//! the legal form dropped (`OVH`, `Amazon.com`, `Free`). The name of last
//! resort: a source no catalogue entry matched is at least named after the
//! network it sends from.

/// Legal forms, compared case-insensitively with the trailing words of
/// the name (periods and commas ignored).
const LEGAL_FORMS: [&str; 34] = [
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "lp",
    "llp",
    "sas",
    "sasu",
    "sarl",
    "sa",
    "gmbh",
    "ag",
    "kg",
    "ug",
    "bv",
    "nv",
    "ab",
    "as",
    "asa",
    "oy",
    "oyj",
    "spa",
    "srl",
    "sro",
    "kk",
    "pty",
    "pte",
    "sp z oo",
];

/// `as_name` without its legal form; None when nothing is left.
pub fn organisation_name(as_name: &str) -> Option<String> {
    let mut words: Vec<&str> = as_name.split_whitespace().collect();
    loop {
        let before = words.len();
        for form in LEGAL_FORMS {
            let n = form.split(' ').count();
            if words.len() > n {
                let tail: Vec<String> = words[words.len() - n..]
                    .iter()
                    .map(|w| {
                        w.chars()
                            .filter(|c| c.is_alphanumeric())
                            .collect::<String>()
                            .to_lowercase()
                    })
                    .collect();
                if tail.join(" ") == form {
                    words.truncate(words.len() - n);
                }
            }
        }
        if words.len() == before {
            break;
        }
    }
    let name = words.join(" ");
    let name = name.trim_end_matches([',', '.', ' ', '-']).trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_forms_are_dropped() {
        for (raw, name) in [
            ("OVH SAS", "OVH"),
            ("Amazon.com, Inc.", "Amazon.com"),
            ("Free SAS", "Free"),
            ("Scaleway S.a.s.", "Scaleway"),
            ("Hetzner Online GmbH", "Hetzner Online"),
            ("Google LLC", "Google"),
            ("Tilaa B.V.", "Tilaa"),
            ("China Telecom", "China Telecom"),
            ("Gandi SAS", "Gandi"),
            (
                "Orange Polska Spolka Akcyjna",
                "Orange Polska Spolka Akcyjna",
            ),
            ("Example Holdings Co., Ltd.", "Example Holdings"),
            ("Inc.", "Inc"),
        ] {
            assert_eq!(organisation_name(raw).as_deref(), Some(name), "{raw}");
        }
        assert_eq!(organisation_name("  "), None);
    }
}
