//! Cluster mode (`[clickhouse] cluster = "name"`): the same migrations,
//! rewritten for a cluster of replicated shards. Every table becomes a
//! `Replicated*MergeTree` named `<table>_local` on every node (Keeper path
//! `/clickhouse/tables/{shard}/<database>/<table>_local/m<migration>`, so a
//! table renamed by a rebuild never meets a later one of its first name;
//! replica `{replica}`: the servers' macros) and a `Distributed` table under the
//! table's own name over them, through which the sink inserts (a report's
//! rows go to one shard, by report id) and every query reads. Materialized
//! views live on the local tables: they fire where a block is inserted,
//! and their target tables replicate like the others. The insert dedup
//! window becomes the replicated one, so a block repeated with its token is
//! dropped on whichever replica receives it. Every statement runs
//! `ON CLUSTER`.

use crate::StoreError;

/// The local (replicated) table behind a distributed one.
pub fn local(table: &str) -> String {
    format!("{table}_local")
}

/// What inserts through the distributed tables carry: acknowledged once
/// written to the shard (not queued on the node first).
pub const INSERT_SETTINGS: [(&str, &str); 1] = [("insert_distributed_sync", "1")];

/// The ledger of applied migrations on a cluster (replicated; each shard
/// keeps its copy, all written by ON CLUSTER DDL alike).
pub fn ledger(cluster: &str, database: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {database}.dmarcflow_migrations ON CLUSTER {cluster} \
         (version UInt32, name String, applied_at DateTime) \
         ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{database}/dmarcflow_migrations', '{{replica}}') \
         ORDER BY version"
    )
}

/// A whole migration as the cluster runs it: each statement rewritten, and
/// a distributed table created again once after a run of column changes
/// to its local table rather than after each.
pub fn migration(
    statements: &[String],
    cluster: &str,
    database: &str,
    version: u32,
) -> Result<Vec<String>, StoreError> {
    let mut out: Vec<String> = Vec::new();
    for statement in statements {
        let rewritten = rewrite(statement, cluster, database, version)?;
        // A column change is [ALTER, DROP, CREATE]: the DROP and CREATE
        // of the change before it, for the same table, are not needed.
        if let [alter, drop, create] = rewritten.as_slice() {
            if alter.contains(" COLUMN ") && out.len() >= 2 && out[out.len() - 2] == *drop {
                out.truncate(out.len() - 2);
            }
            out.extend([alter.clone(), drop.clone(), create.clone()]);
            continue;
        }
        out.extend(rewritten);
    }
    Ok(out)
}

/// One statement of a migration as the cluster runs it.
/// Names are qualified with the database: a node running its part of an
/// ON CLUSTER statement resolves unqualified names inside a view's SELECT
/// in its default database.
pub fn rewrite(
    statement: &str,
    cluster: &str,
    database: &str,
    migration: u32,
) -> Result<Vec<String>, StoreError> {
    let s = statement.trim();
    let db = |name: &str| format!("{database}.{name}");
    let words: Vec<&str> = s.split_whitespace().collect();
    let unknown = || {
        StoreError::Config(format!(
            "cluster mode cannot run this migration statement: {}",
            s.chars().take(80).collect::<String>()
        ))
    };
    match words.as_slice() {
        ["CREATE", "TABLE", "IF", "NOT", "EXISTS", name, ..] | ["CREATE", "TABLE", name, ..] => {
            create_table(s, name, cluster, database, migration).ok_or_else(unknown)
        }
        ["CREATE", "MATERIALIZED", "VIEW", "IF", "NOT", "EXISTS", name, "TO", target, ..] => {
            let body = s
                .find("AS SELECT")
                .map(|at| &s[at + "AS ".len()..])
                .ok_or_else(unknown)?;
            let body = match body.rsplit_once("FROM ") {
                Some((select, source)) => format!("{select}FROM {}", db(&local(source.trim()))),
                None => return Err(unknown()),
            };
            Ok(vec![format!(
                "CREATE MATERIALIZED VIEW IF NOT EXISTS {} ON CLUSTER {cluster} TO {} AS {body}",
                db(name),
                db(&local(target))
            )])
        }
        ["ALTER", "TABLE", name, "MODIFY", "SETTING", ..] => {
            let setting = s
                .split_once("MODIFY SETTING")
                .map(|(_, v)| v.trim())
                .ok_or_else(unknown)?
                .replace(
                    "non_replicated_deduplication_window",
                    "replicated_deduplication_window",
                );
            Ok(vec![format!(
                "ALTER TABLE {} ON CLUSTER {cluster} MODIFY SETTING {setting}",
                db(&local(name))
            )])
        }
        // A column changes on the local tables; the distributed table over
        // them, which holds no rows (inserts are synchronous), is created
        // again with their structure (a cluster of replicated shards
        // refuses ALTER ON CLUSTER of a table that is not replicated):
        // once after a run of changes to one table (`migration`).
        ["ALTER", "TABLE", name, "ADD" | "MODIFY", "COLUMN", ..] => {
            let change = s
                .split_once(name)
                .map(|(_, change)| change.trim())
                .ok_or_else(unknown)?;
            Ok(vec![
                format!(
                    "ALTER TABLE {} ON CLUSTER {cluster} {change}",
                    db(&local(name))
                ),
                format!("DROP TABLE IF EXISTS {} ON CLUSTER {cluster}", db(name)),
                distributed(name, cluster, database, ""),
            ])
        }
        ["DROP", "VIEW", "IF", "EXISTS", name] => Ok(vec![format!(
            "DROP VIEW IF EXISTS {} ON CLUSTER {cluster}",
            db(name)
        )]),
        ["DROP", "TABLE", "IF", "EXISTS", name] | ["DROP", "TABLE", name] => Ok(vec![
            format!("DROP TABLE IF EXISTS {} ON CLUSTER {cluster}", db(name)),
            format!(
                "DROP TABLE IF EXISTS {} ON CLUSTER {cluster}",
                db(&local(name))
            ),
        ]),
        // Through the distributed tables: every shard read, every row
        // written to its shard, before the statement returns.
        ["INSERT", "INTO", _, "SELECT", ..] => {
            Ok(vec![format!("{s} SETTINGS insert_distributed_sync = 1")])
        }
        // The local tables change names; the distributed ones keep theirs
        // and so read the renamed local tables (a distributed table names
        // its local table), the leftovers are dropped after.
        ["RENAME", "TABLE", ..] => {
            let pairs = s
                .trim_start_matches("RENAME TABLE")
                .split(',')
                .map(|pair| {
                    let (from, to) = pair.split_once(" TO ")?;
                    Some((from.trim().to_owned(), to.trim().to_owned()))
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(unknown)?;
            let renames: Vec<String> = pairs
                .iter()
                .map(|(from, to)| format!("{} TO {}", db(&local(from)), db(&local(to))))
                .collect();
            let mut out = vec![format!(
                "RENAME TABLE {} ON CLUSTER {cluster}",
                renames.join(", ")
            )];
            // A distributed table whose local table moved away and whose
            // name no local table takes is left over.
            for (from, _) in &pairs {
                if !pairs.iter().any(|(_, to)| to == from) {
                    out.push(format!(
                        "DROP TABLE IF EXISTS {} ON CLUSTER {cluster}",
                        db(from)
                    ));
                }
            }
            Ok(out)
        }
        _ => Err(unknown()),
    }
}

/// A table: its replicated local table and the distributed one over it.
fn create_table(
    s: &str,
    name: &str,
    cluster: &str,
    database: &str,
    migration: u32,
) -> Option<Vec<String>> {
    let (head, rest) = s.split_once('(')?;
    let local_name = local(name);
    let engine_at = rest.find("ENGINE = ")?;
    let after = &rest[engine_at + "ENGINE = ".len()..];
    let engine_end = after.find(char::is_whitespace).unwrap_or(after.len());
    let engine = &after[..engine_end];
    let (engine, arguments) = match engine.split_once('(') {
        Some((name, args)) => (name, format!(", {}", args.trim_end_matches(')'))),
        None => (engine, String::new()),
    };
    if !matches!(
        engine,
        "MergeTree" | "SummingMergeTree" | "ReplacingMergeTree"
    ) {
        return None;
    }
    let replicated = format!(
        "Replicated{engine}('/clickhouse/tables/{{shard}}/{database}/{local_name}/m{migration}', '{{replica}}'{arguments})"
    );
    let rest = format!(
        "{}ENGINE = {replicated}{}",
        &rest[..engine_at],
        &after[engine_end..]
    )
    .replace(
        "non_replicated_deduplication_window",
        "replicated_deduplication_window",
    );
    let if_not_exists = if head.contains("IF NOT EXISTS") {
        "IF NOT EXISTS "
    } else {
        ""
    };
    Some(vec![
        format!("CREATE TABLE {if_not_exists}{database}.{local_name} ON CLUSTER {cluster} ({rest}"),
        distributed(name, cluster, database, if_not_exists),
    ])
}

/// The distributed table over a local one: a report's rows go to one shard
/// (by report id), an alert's states too (by key), a domain's checks too
/// (by domain); the daily tables, which
/// have neither, anywhere.
fn distributed(name: &str, cluster: &str, database: &str, if_not_exists: &str) -> String {
    let local_name = local(name);
    let key = if name.contains("_daily") {
        "rand()"
    } else if name.starts_with("alert_state") {
        "cityHash64(key)"
    } else if name.starts_with("domain_checks")
        || name.starts_with("mta_sts_modes")
        || name.starts_with("flattened_spf")
    {
        "cityHash64(domain)"
    } else if name.starts_with("certificate_renewals") {
        "cityHash64(name)"
    } else {
        "cityHash64(report_id)"
    };
    format!(
        "CREATE TABLE {if_not_exists}{database}.{name} ON CLUSTER {cluster} AS {database}.{local_name} \
         ENGINE = Distributed({cluster}, {database}, {local_name}, {key})"
    )
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn every_migration_statement_has_its_cluster_form() {
        for m in dmarcflow_schemas::ddl::CLICKHOUSE {
            for s in m.statements() {
                let out =
                    rewrite(&s, "c", "db", m.version).unwrap_or_else(|e| panic!("{}: {e}", m.name));
                assert!(
                    out.iter()
                        .all(|o| o.contains("ON CLUSTER c") || o.starts_with("INSERT INTO")),
                    "{out:?}"
                );
            }
        }
    }

    #[test]
    fn tables_views_and_settings() -> Result<(), crate::StoreError> {
        let t = rewrite(
            "CREATE TABLE IF NOT EXISTS r\n(\n    report_id String,\n    n UInt64\n)\nENGINE = SummingMergeTree\nORDER BY report_id",
            "c",
            "db",
            1,
        )?;
        assert_eq!(t.len(), 2);
        assert!(t[0].starts_with("CREATE TABLE IF NOT EXISTS db.r_local ON CLUSTER c ("));
        assert!(t[0].contains(
            "ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/db/r_local/m1', '{replica}')\nORDER BY report_id"
        ));
        assert_eq!(
            t[1],
            "CREATE TABLE IF NOT EXISTS db.r ON CLUSTER c AS db.r_local ENGINE = Distributed(c, db, r_local, cityHash64(report_id))"
        );
        let v = rewrite(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS v\nTO d\nAS SELECT a, b\nFROM r",
            "c",
            "db",
            3,
        )?;
        assert_eq!(
            v,
            ["CREATE MATERIALIZED VIEW IF NOT EXISTS db.v ON CLUSTER c TO db.d_local AS SELECT a, b\nFROM db.r_local"]
        );
        let a = rewrite(
            "ALTER TABLE r MODIFY SETTING non_replicated_deduplication_window = 1000",
            "c",
            "db",
            4,
        )?;
        assert_eq!(
            a,
            ["ALTER TABLE db.r_local ON CLUSTER c MODIFY SETTING replicated_deduplication_window = 1000"]
        );
        let r = rewrite(
            "RENAME TABLE r TO r__previous, r__current TO r",
            "c",
            "db",
            6,
        )?;
        assert_eq!(
            r,
            [
                "RENAME TABLE db.r_local TO db.r__previous_local, db.r__current_local TO db.r_local ON CLUSTER c",
                "DROP TABLE IF EXISTS db.r__current ON CLUSTER c"
            ]
        );
        let c = rewrite(
            "ALTER TABLE r ADD COLUMN IF NOT EXISTS source_asn UInt32",
            "c",
            "db",
            7,
        )?;
        assert_eq!(
            c,
            [
                "ALTER TABLE db.r_local ON CLUSTER c ADD COLUMN IF NOT EXISTS source_asn UInt32",
                "DROP TABLE IF EXISTS db.r ON CLUSTER c",
                "CREATE TABLE db.r ON CLUSTER c AS db.r_local ENGINE = Distributed(c, db, r_local, cityHash64(report_id))"
            ]
        );
        let two = super::migration(
            &[
                "ALTER TABLE r ADD COLUMN IF NOT EXISTS a UInt8".to_owned(),
                "ALTER TABLE r ADD COLUMN IF NOT EXISTS b UInt8".to_owned(),
            ],
            "c",
            "db",
            7,
        )?;
        assert_eq!(two.len(), 4, "{two:?}");
        assert!(two[1].contains(" b UInt8") && two[3].starts_with("CREATE TABLE db.r "));
        assert!(rewrite("SELECT 1", "c", "db", 1).is_err());
        Ok(())
    }
}
