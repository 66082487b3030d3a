//! Report emails written inline, for tests that need one small report.

/// A small aggregate report email (text/xml) whose report id is `id`.
pub fn report_email(id: &str) -> String {
    format!(
        "From: reports@mail.example\r\nTo: dmarc@example.com\r\nSubject: Report domain: example.com Id: {id}\r\n\
MIME-Version: 1.0\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\"?><feedback><report_metadata>\
<org_name>Mail</org_name><email>r@mail.example</email><report_id>{id}</report_id><date_range><begin>1704067200</begin>\
<end>1704153599</end></date_range></report_metadata><policy_published><domain>example.com</domain><p>none</p>\
</policy_published><record><row><source_ip>192.0.2.1</source_ip><count>3</count></row><identifiers>\
<header_from>example.com</header_from></identifiers><auth_results><spf><domain>example.com</domain><result>pass</result>\
</spf></auth_results></record></feedback>\r\n"
    )
}
