//! One round: the conditions that hold, compared with the state. A new
//! condition fires, a firing one that no longer holds resolves; each
//! transition is notified, except within the quiet period after the same
//! condition was last notified (a resolution follows its firing: notified
//! if the firing was). Notifications go out before the state is written,
//! so a round cut short notifies again rather than never; a domain whose
//! notifications failed keeps its old state, and is notified next round.

use std::collections::BTreeSet;

use dmarcflow_store::Store;

use crate::notify::Undelivered;
use crate::rules::{conditions, Period};
use crate::state::{self, State, Status};
use crate::{AlertError, AlertsConfig};

/// A condition changing status.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub status: Status,
    pub rule: String,
    pub domain: String,
    pub subject: String,
    pub message: String,
    pub value: f64,
    /// Unix seconds: since when the condition held (firing) or when it
    /// cleared (resolved).
    pub since: i64,
    /// Sent to the webhooks (false within the quiet period).
    pub notified: bool,
}

/// What a round did.
#[derive(Debug, Default)]
pub struct Round {
    pub transitions: Vec<Transition>,
    /// Conditions firing after the round.
    pub firing: usize,
    /// The domains whose notifications did not all go out (their
    /// transitions are not recorded, and come again next round).
    pub undelivered: Vec<Undelivered>,
}

/// Evaluates every rule for the window ending with `today` at `now`
/// (Unix seconds), notifies, and records the new state.
pub async fn evaluate(
    store: &mut Store,
    config: &AlertsConfig,
    today: &str,
    now: i64,
) -> Result<Round, AlertError> {
    let period = Period::new(today, config)?;
    let holding = conditions(store, config, &period).await?;
    let states = state::load(store).await?;
    let quiet = i64::try_from(config.quiet_period.as_secs()).unwrap_or(i64::MAX);
    let mut round = Round::default();
    let mut changed: Vec<State> = Vec::new();
    let mut held = BTreeSet::new();
    for c in &holding {
        let key = c.key();
        held.insert(key.clone());
        let prior = states.get(&key);
        if prior.is_some_and(|s| s.status == Status::Firing) {
            round.firing += 1;
            continue;
        }
        let last = prior.map_or(0, |s| s.notified_at);
        let notified = last == 0 || now - last >= quiet;
        round.firing += 1;
        round.transitions.push(Transition {
            status: Status::Firing,
            rule: c.rule.name().to_owned(),
            domain: c.domain.clone(),
            subject: c.subject.clone(),
            message: c.message.clone(),
            value: c.value,
            since: now,
            notified,
        });
        changed.push(State {
            key,
            rule: c.rule.name().to_owned(),
            domain: c.domain.clone(),
            subject: c.subject.clone(),
            status: Status::Firing,
            message: c.message.clone(),
            since: now,
            notified_at: if notified { now } else { last },
        });
    }
    for s in states.values() {
        if s.status != Status::Firing || held.contains(&s.key) {
            continue;
        }
        let told = crate::rules::Rule::parse(&s.rule).is_none_or(|r| r.notify_resolution());
        let notified = told && s.notified_at >= s.since;
        let message = format!("resolved: {}", s.message);
        round.transitions.push(Transition {
            status: Status::Resolved,
            rule: s.rule.clone(),
            domain: s.domain.clone(),
            subject: s.subject.clone(),
            message: message.clone(),
            value: 0.0,
            since: now,
            notified,
        });
        changed.push(State {
            status: Status::Resolved,
            message,
            since: now,
            notified_at: if notified { now } else { s.notified_at },
            ..s.clone()
        });
    }
    round.undelivered = crate::notify::deliver(config, &round.transitions).await;
    // What did not go out is not recorded: the next round sends it again.
    let failed: BTreeSet<&str> = round
        .undelivered
        .iter()
        .map(|u| u.domain.as_str())
        .collect();
    let delivered = |t: &Transition| !(t.notified && failed.contains(t.domain.as_str()));
    // `changed` has a state per transition, in the same order.
    let changed: Vec<State> = changed
        .into_iter()
        .zip(&round.transitions)
        .filter(|(_, t)| delivered(t))
        .map(|(s, _)| s)
        .collect();
    // Orders the changes of one key (ClickHouse keeps them all).
    let version = dmarcflow_store::version_now();
    state::save(store, &changed, version).await?;
    Ok(round)
}
