//! What kind of sender an entry is: a closed set, with a type this version
//! does not know kept as written (a user's own file may use its own).

/// What kind of sender.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SenderKind {
    /// Mailbox providers and hosted mail suites (Gmail, Microsoft 365).
    EmailProvider,
    /// Bulk and transactional sending services (SES, SendGrid, Postmark).
    Esp,
    /// Marketing and newsletter platforms (Mailchimp, Brevo, HubSpot).
    Marketing,
    /// Business platforms that send as their customers: CRM, helpdesk,
    /// e-commerce, billing (Salesforce, Zendesk, Shopify).
    Platform,
    /// Filtering relays in front of an organisation (Proofpoint, Mimecast).
    SecurityGateway,
    /// Mailing lists and forwarders: they resend others' mail.
    Forwarder,
    /// Shared and dedicated hosting.
    WebHost,
    /// Rented machines: a sender there is whoever rents it.
    Cloud,
    /// Named after the network its address belongs to, no more known.
    Network,
    Other(String),
}

impl SenderKind {
    pub const KNOWN: [&'static str; 9] = [
        "email provider",
        "esp",
        "marketing",
        "platform",
        "security gateway",
        "forwarder",
        "web host",
        "cloud",
        "network",
    ];

    pub fn parse(text: &str) -> Self {
        match text.trim().to_ascii_lowercase().as_str() {
            "email provider" => Self::EmailProvider,
            "esp" => Self::Esp,
            "marketing" => Self::Marketing,
            "platform" => Self::Platform,
            "security gateway" => Self::SecurityGateway,
            "forwarder" => Self::Forwarder,
            "web host" => Self::WebHost,
            "cloud" => Self::Cloud,
            "network" => Self::Network,
            _ => Self::Other(text.trim().to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::EmailProvider => "email provider",
            Self::Esp => "esp",
            Self::Marketing => "marketing",
            Self::Platform => "platform",
            Self::SecurityGateway => "security gateway",
            Self::Forwarder => "forwarder",
            Self::WebHost => "web host",
            Self::Cloud => "cloud",
            Self::Network => "network",
            Self::Other(text) => text,
        }
    }

    /// A platform that sends for its customers and can be set up to send
    /// aligned mail (its failures are a configuration to fix, not
    /// spoofing): everything but machines rented by anyone, networks and
    /// forwarders.
    pub fn is_platform(&self) -> bool {
        !matches!(
            self,
            Self::Cloud | Self::Network | Self::Forwarder | Self::WebHost | Self::Other(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_reads_back() {
        for text in SenderKind::KNOWN {
            let kind = SenderKind::parse(text);
            assert!(!matches!(kind, SenderKind::Other(_)), "{text}");
            assert_eq!(kind.as_str(), text);
        }
        assert_eq!(
            SenderKind::parse(" Relay "),
            SenderKind::Other("Relay".into())
        );
    }
}
