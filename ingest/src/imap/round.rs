//! One round on a selected mailbox: find the waiting messages, fetch a
//! bounded batch, parse it, publish everything, and only then move or flag
//! the messages. A bus failure leaves every message of the round in place.

use async_imap::types::Uid;
use futures_util::{StreamExt, TryStreamExt};

use super::config::{AfterAck, INVALID_KEYWORD, PROCESSED_KEYWORD};
use super::connect::{timed, ImapSession};
use super::{ImapError, Shared};
use crate::files::{Found, Rejected};
use crate::Carrier;
use dmarcflow_bus::BusError;
use dmarcflow_bus::Publish;

/// What the server can do that changes how messages are moved.
#[derive(Debug, Clone, Copy)]
pub struct Abilities {
    pub mv: bool,
    pub uidplus: bool,
}

/// A fetched message and what parsing it found.
struct Message {
    uid: Uid,
    data: bytes::Bytes,
    found: Vec<Found>,
}

/// Runs one round; returns how many messages it settled (0: none waiting).
pub async fn round<P: Publish>(
    shared: &Shared<P>,
    session: &mut ImapSession,
    mailbox: &str,
    abilities: Abilities,
) -> Result<usize, ImapError> {
    let config = &shared.config;
    while session.unsolicited_responses.try_recv().is_ok() {}
    let mut waiting: Vec<Uid> = timed(config, "UID SEARCH", session.uid_search(criteria(config)))
        .await??
        .into_iter()
        .collect();
    if waiting.is_empty() {
        return Ok(0);
    }
    waiting.sort_unstable();
    waiting.truncate(config.batch_messages);

    let sizes = fetch_sizes(shared, session, &waiting).await?;
    let (mut take, mut too_large, mut bytes) = (Vec::new(), Vec::new(), 0u64);
    let mut working = 0u64;
    for (uid, size) in sizes {
        if size > config.max_message_bytes {
            too_large.push((uid, size));
        } else if take.is_empty() || bytes + size <= config.batch_bytes {
            take.push(uid);
            bytes += size;
            working += shared.working_bytes(size);
        }
    }
    // The batch waits for room in the memory budget (its messages wait on
    // the server meanwhile) and holds it until the round is settled.
    let _held = shared.budget.reserve(working).await;
    let received_at = crate::received_now();
    let messages = fetch_and_parse(shared, session, mailbox, &take, received_at).await?;
    let oversized: Vec<Rejected> = too_large
        .iter()
        .map(|(uid, size)| {
            let origin = origin(config, mailbox, *uid);
            Rejected {
                path: origin.clone(),
                origin,
                reason: "limit_exceeded",
                error: format!(
                    "message of {size} bytes is over the IMAP source's limit of {} bytes",
                    config.max_message_bytes
                ),
            }
        })
        .collect();
    if let Err(e) = publish(shared, &messages, &oversized, received_at).await {
        shared.publisher.recover();
        return Err(ImapError::Bus(e));
    }

    let (mut processed, mut invalid) = (Vec::new(), Vec::new());
    for m in &messages {
        let any_report = m.found.iter().any(|f| matches!(f, Found::Report(_)));
        if any_report {
            processed.push(m.uid);
        } else {
            invalid.push(m.uid);
        }
    }
    invalid.extend(too_large.iter().map(|(uid, _)| *uid));
    settle(shared, session, &processed, true, abilities).await?;
    settle(shared, session, &invalid, false, abilities).await?;
    tracing::info!(
        mailbox,
        processed = processed.len(),
        invalid = invalid.len(),
        "imap round settled"
    );
    Ok(processed.len() + invalid.len())
}

fn criteria(config: &super::ImapConfig) -> String {
    match config.after {
        AfterAck::Move { .. } => "UNDELETED".to_owned(),
        AfterAck::Flag => {
            format!("UNDELETED UNKEYWORD {PROCESSED_KEYWORD} UNKEYWORD {INVALID_KEYWORD}")
        }
    }
}

/// Names a message in reports and dead letters (an RFC 5092 IMAP URL).
fn origin(config: &super::ImapConfig, mailbox: &str, uid: Uid) -> String {
    format!(
        "imap://{}@{}/{};UID={uid}",
        config.username, config.host, mailbox
    )
}

async fn fetch_sizes<P>(
    shared: &Shared<P>,
    session: &mut ImapSession,
    uids: &[Uid],
) -> Result<Vec<(Uid, u64)>, ImapError> {
    let fetching = async {
        let stream = session
            .uid_fetch(uid_set(uids), "(UID RFC822.SIZE)")
            .await?;
        let fetches: Vec<_> = stream.try_collect().await?;
        Ok::<_, async_imap::error::Error>(fetches)
    };
    let fetches = timed(&shared.config, "UID FETCH sizes", fetching).await??;
    let mut sizes: Vec<(Uid, u64)> = fetches
        .iter()
        .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
        .collect();
    sizes.sort_unstable();
    Ok(sizes)
}

async fn fetch_and_parse<P>(
    shared: &Shared<P>,
    session: &mut ImapSession,
    mailbox: &str,
    uids: &[Uid],
    received_at: i64,
) -> Result<Vec<Message>, ImapError> {
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    let config = &shared.config;
    let fetching = async {
        let mut stream = session
            .uid_fetch(uid_set(uids), "(UID BODY.PEEK[])")
            .await?;
        let mut bodies = Vec::with_capacity(uids.len());
        while let Some(fetch) = stream.next().await {
            let fetch = fetch?;
            if let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) {
                crate::source_metrics::received("imap", body.len());
                bodies.push((uid, bytes::Bytes::copy_from_slice(body)));
            }
        }
        Ok::<_, async_imap::error::Error>(bodies)
    };
    // A message expunged by someone else meanwhile is simply not there.
    let bodies = timed(config, "UID FETCH bodies", fetching).await??;
    let mut messages = Vec::with_capacity(bodies.len());
    for (uid, data) in bodies {
        let found = shared
            .source_for(data.len() as u64)
            .read_message_blocking(data.clone(), origin(config, mailbox, uid), received_at)
            .await
            .ok_or(ImapError::Parse)?;
        let signatures = shared.signatures(&data, Carrier::Email).await;
        let found = shared
            .prepared(
                futures_util::stream::iter(found),
                Carrier::Email,
                signatures.as_ref(),
            )
            .collect()
            .await;
        messages.push(Message { uid, data, found });
    }
    Ok(messages)
}

/// Publishes every report and dead letter of the round at once and waits
/// for all acknowledgements (bounded by the configured timeout).
async fn publish<P: Publish>(
    shared: &Shared<P>,
    messages: &[Message],
    oversized: &[Rejected],
    received_at: i64,
) -> Result<(), BusError> {
    let publisher = &shared.publisher;
    let found = messages.iter().flat_map(|m| {
        m.found.iter().map(move |f| async move {
            match f {
                Found::Report(r) => publisher.publish(r).await,
                Found::Rejected(r) => {
                    let copy = shared.source.privacy.raw_copy(&m.data);
                    publisher.dead_letter(&copy, r, received_at).await
                }
            }
        })
    });
    let sends = futures_util::future::join_all(found);
    let letters = futures_util::future::join_all(
        oversized
            .iter()
            .map(|r| publisher.dead_letter(&[], r, received_at)),
    );
    let all = async { (sends.await, letters.await) };
    let (sent, lettered) = tokio::time::timeout(shared.config.timeout, all)
        .await
        .map_err(|_| BusError::Timeout)?;
    sent.into_iter().chain(lettered).collect()
}

/// Moves or flags acknowledged messages.
async fn settle<P>(
    shared: &Shared<P>,
    session: &mut ImapSession,
    uids: &[Uid],
    processed: bool,
    abilities: Abilities,
) -> Result<(), ImapError> {
    if uids.is_empty() {
        return Ok(());
    }
    let config = &shared.config;
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let set = uid_set(&sorted);
    match &config.after {
        AfterAck::Flag => {
            let keyword = if processed {
                PROCESSED_KEYWORD
            } else {
                INVALID_KEYWORD
            };
            store(shared, session, &set, &format!("+FLAGS.SILENT ({keyword})")).await
        }
        AfterAck::Move {
            processed: p,
            invalid: i,
        } => {
            let target = if processed { p } else { i };
            if abilities.mv {
                return Ok(timed(config, "UID MOVE", session.uid_mv(&set, target)).await??);
            }
            timed(config, "UID COPY", session.uid_copy(&set, target)).await??;
            store(shared, session, &set, "+FLAGS.SILENT (\\Deleted)").await?;
            let expunging = async {
                if abilities.uidplus {
                    let stream = session.uid_expunge(&set).await?;
                    stream.try_collect::<Vec<_>>().await?;
                } else {
                    let stream = session.expunge().await?;
                    stream.try_collect::<Vec<_>>().await?;
                }
                Ok::<_, async_imap::error::Error>(())
            };
            Ok(timed(config, "EXPUNGE", expunging).await??)
        }
    }
}

async fn store<P>(
    shared: &Shared<P>,
    session: &mut ImapSession,
    set: &str,
    query: &str,
) -> Result<(), ImapError> {
    let storing = async {
        let stream = session.uid_store(set, query).await?;
        stream.try_collect::<Vec<_>>().await?;
        Ok::<_, async_imap::error::Error>(())
    };
    Ok(timed(&shared.config, "UID STORE", storing).await??)
}

/// `1:3,7,9:10` from sorted UIDs.
pub fn uid_set(uids: &[Uid]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.saturating_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod unit {
    #[test]
    fn uid_sets() {
        assert_eq!(super::uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(super::uid_set(&[5]), "5");
        assert_eq!(super::uid_set(&[]), "");
    }
}
