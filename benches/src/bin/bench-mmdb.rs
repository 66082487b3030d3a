//! `bench-mmdb FILE`: an MMDB in the GeoLite2-ASN layout for the address
//! ranges the generator uses (198.18.0.0/15 and 2001:db8::/32), so
//! `benches/enrich.sh` looks every source up in a real database file.

use std::process::ExitCode;

#[derive(serde::Serialize)]
struct Asn {
    autonomous_system_number: u32,
    autonomous_system_organization: &'static str,
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bench-mmdb FILE");
        return ExitCode::from(2);
    };
    let mut db = maxminddb_writer::Database::default();
    db.metadata.database_type = "GeoLite2-ASN".into();
    db.metadata.binary_format_major_version = 2;
    // An IPv6 tree; IPv4 lives under ::/96, as in MaxMind's own files.
    db.metadata.ip_version = maxminddb_writer::metadata::IpVersion::V6;
    for (network, asn, name) in [
        ("::198.18.0.0/112", 64512, "Benchmark Networks A"),
        ("::198.19.0.0/112", 64513, "Benchmark Networks B"),
        ("2001:db8::/32", 64514, "Documentation Networks"),
    ] {
        let data = match db.insert_value(Asn {
            autonomous_system_number: asn,
            autonomous_system_organization: name,
        }) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{e:?}");
                return ExitCode::FAILURE;
            }
        };
        let Ok(network) = network.parse::<maxminddb_writer::paths::IpAddrWithMask>() else {
            eprintln!("bad network {network}");
            return ExitCode::FAILURE;
        };
        db.insert_node(network, data);
    }
    match db
        .write_to(Vec::new())
        .map(|bytes| std::fs::write(&path, bytes))
    {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("{path}: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{e:?}");
            ExitCode::FAILURE
        }
    }
}
