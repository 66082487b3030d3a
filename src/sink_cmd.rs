//! `dmarcflow sink`: the report topics into the configured store (see
//! `dmarcflow_store::kafka`). Offsets are committed only after the store
//! confirmed a batch.

use std::time::Duration;

use anyhow::Result;
use dmarcflow_store::kafka::{KafkaSinkConfig, SinkService, SinkSummary, Until};
use dmarcflow_store::Store;

use crate::config::Config;
use crate::SinkArgs;

pub fn run(args: &SinkArgs, config: &Config, kafka: &KafkaSinkConfig) -> Result<SinkSummary> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let until = match args.until_idle {
        Some(seconds) => Until::Idle(Duration::from_secs_f64(seconds)),
        None => Until::Forever,
    };
    let summary = runtime.block_on(async {
        crate::metrics_endpoint::install(config.metrics_listen.as_deref())?;
        let mut store = Store::open(&config.store).await?;
        let service = SinkService::new(kafka)?;
        anyhow::Ok(
            service
                .run(
                    &mut store,
                    config.batch,
                    until,
                    crate::shutdown::signalled(),
                )
                .await?,
        )
    })?;
    eprintln!(
        "{} messages: {} reports stored, {} already stored, {} rows, {} to the dead-letter topic",
        summary.messages,
        summary.stored.reports,
        summary.stored.duplicates,
        summary.stored.rows,
        summary.dead_letters
    );
    Ok(summary)
}
