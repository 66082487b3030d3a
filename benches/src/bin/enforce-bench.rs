//! `enforce-bench STORE DOMAIN FROM TO [ROUNDS]`: the path to enforcement
//! (classification and readiness: `dmarcflow_enforce::assess`) on an
//! embedded store, next to the two report views it opens before
//! (`report --by result,source`), each the median of ROUNDS (default 5).
//! `benches/enforce.sh` fills the store with a month of generated emails.

use std::time::{Duration, Instant};

use dmarcflow_enforce::{assess, EnforcementConfig};
use dmarcflow_senders::SenderMap;
use dmarcflow_store::summary::{Scope, View};
use dmarcflow_store::{Store, StoreConfig};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [store, domain, from, to, rest @ ..] = args.as_slice() else {
        return Err("usage: enforce-bench STORE DOMAIN FROM TO [ROUNDS]".into());
    };
    let rounds: usize = rest
        .first()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
        .max(1);
    let store = Store::open(&StoreConfig::Sqlite { path: store.into() }).await?;
    let scope = Scope::new(domain, from, to)?;
    let (config, catalogue) = (EnforcementConfig::default(), SenderMap::builtin());
    let (mut views, mut enforcement) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..rounds {
        let started = Instant::now();
        for view in [View::Result, View::Source] {
            store.query(&view.sql(store.backend(), &scope)).await?;
        }
        views.push(started.elapsed());
        let started = Instant::now();
        last = Some(assess(&store, &scope, &config, &catalogue).await?);
        enforcement.push(started.elapsed());
    }
    let a = last.ok_or("no round")?;
    println!(
        "{} messages, {} senders in {} classes, verdict {}",
        a.messages,
        a.senders.len(),
        a.senders
            .iter()
            .map(|s| s.class)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        a.verdict.as_str()
    );
    println!("| step (median of {rounds}) | seconds |");
    println!("|---|---|");
    println!(
        "| report --by result,source (two views) | {:.3} |",
        median(views).as_secs_f64()
    );
    println!(
        "| classification and readiness (enforce::assess) | {:.3} |",
        median(enforcement).as_secs_f64()
    );
    Ok(())
}
