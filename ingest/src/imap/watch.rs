//! One watched mailbox, on its own connection: rounds until nothing waits,
//! then IDLE (or a poll interval) until the server reports new mail; on any
//! error the connection is dropped and reopened after a backoff that
//! doubles up to its maximum and resets once a session is established.

use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use tokio::sync::watch::Receiver;

use super::config::AfterAck;
use super::connect::{connect, timed, ImapSession};
use super::round::{round, Abilities};
use super::{ImapError, Shared};
use dmarcflow_bus::Publish;

pub async fn watch<P: Publish>(shared: Arc<Shared<P>>, mailbox: String, mut stop: Receiver<bool>) {
    let config = &shared.config;
    let mut backoff = config.backoff_min;
    loop {
        if *stop.borrow() {
            return;
        }
        match session(&shared, &mailbox, &mut stop, &mut backoff).await {
            Ok(()) => return,
            Err(e) => {
                crate::source_metrics::source_error("imap", e.class());
                tracing::warn!(
                    error = %e,
                    %mailbox,
                    host = %config.host,
                    retry_in_s = backoff.as_secs_f64(),
                    "imap source failed; reconnecting"
                );
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = stopped(&mut stop) => return,
                }
                backoff = (backoff * 2).min(config.backoff_max);
            }
        }
    }
}

/// One connection's life; Ok only when stopped.
async fn session<P: Publish>(
    shared: &Shared<P>,
    mailbox: &str,
    stop: &mut Receiver<bool>,
    backoff: &mut Duration,
) -> Result<(), ImapError> {
    let config = &shared.config;
    let mut session = connect(config).await?;
    let capabilities = timed(config, "CAPABILITY", session.capabilities()).await??;
    let abilities = Abilities {
        mv: capabilities.has_str("MOVE"),
        uidplus: capabilities.has_str("UIDPLUS"),
    };
    let idle = config.idle && capabilities.has_str("IDLE");
    if let AfterAck::Move { processed, invalid } = &config.after {
        for target in [processed, invalid] {
            create_if_missing(shared, &mut session, target).await?;
        }
    }
    timed(config, "SELECT", session.select(mailbox)).await??;
    *backoff = config.backoff_min;
    tracing::info!(%mailbox, host = %config.host, idle, "imap source watching");
    loop {
        while !*stop.borrow() && round(shared, &mut session, mailbox, abilities).await? > 0 {}
        if *stop.borrow() {
            let _ = timed(config, "LOGOUT", session.logout()).await;
            return Ok(());
        }
        if idle {
            session = wait_idle(shared, session, stop).await?;
        } else {
            tokio::select! {
                () = tokio::time::sleep(config.poll_interval) => {}
                () = stopped(stop) => {}
            }
        }
    }
}

/// IDLE until the server reports anything, the IDLE timeout passes, or stop.
async fn wait_idle<P>(
    shared: &Shared<P>,
    session: ImapSession,
    stop: &mut Receiver<bool>,
) -> Result<ImapSession, ImapError> {
    let config = &shared.config;
    let mut handle = session.idle();
    timed(config, "IDLE", handle.init()).await??;
    {
        let (waiting, _interrupt) = handle.wait_with_timeout(config.idle_timeout);
        tokio::select! {
            woke = waiting => match woke? {
                IdleResponse::NewData(_) => tracing::debug!("imap: new data while idle"),
                IdleResponse::Timeout | IdleResponse::ManualInterrupt => {}
            },
            () = stopped(stop) => {}
        }
    }
    Ok(timed(config, "DONE", handle.done()).await??)
}

/// CREATE, accepting that the mailbox exists already.
async fn create_if_missing<P>(
    shared: &Shared<P>,
    session: &mut ImapSession,
    mailbox: &str,
) -> Result<(), ImapError> {
    let config = &shared.config;
    match timed(config, "CREATE", session.create(mailbox)).await? {
        Ok(()) => Ok(()),
        Err(async_imap::error::Error::No(_)) => {
            // Usually [ALREADYEXISTS]; anything else shows when selecting or moving.
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Resolves once stop is true (never, if its sender is gone while false).
async fn stopped(stop: &mut Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}
