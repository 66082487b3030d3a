//! One SMTP (RFC 5321) or LMTP (RFC 2033) conversation. A message is
//! answered 250 only once everything it produced is durable on the bus
//! (reports, or the dead letter saying why it held none); when the bus
//! cannot take it the answer is 451, so the sender keeps it and retries.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::Instant;

use super::{SmtpConfig, SmtpTimeouts, LISTENER};
use crate::budget::Reservation;
use crate::Undelivered;
use dmarcflow_bus::Publish;

/// Longest command line (RFC 5321 4.5.3.1.4 says 512; be generous).
const MAX_COMMAND: u64 = 4096;
/// How long the 421 said at a timeout may take to be written.
const TIMEOUT_REPLY_WAIT: Duration = Duration::from_secs(1);
/// How long past the session's end a delivery under way may still take to
/// be answered (its wait for the bus is bounded by `bus_timeout`).
const ANSWER_GRACE: Duration = Duration::from_secs(30);
/// Most bytes of message data read at once (a line may be longer).
const CHUNK: u64 = 64 << 10;
/// How long a message may wait for room in the memory budget before the
/// answer is 451 (reading it pauses meanwhile).
const BUDGET_WAIT: Duration = Duration::from_secs(2);
/// The answer while the memory budget has no room.
const BUSY: &str = "451 4.3.1 Too much mail in flight, try again later";

/// What the listener shares with every session.
pub type Shared<P> = crate::Shared<SmtpConfig, P>;

/// How a session ended.
pub enum End<S> {
    Closed,
    /// The client asked for STARTTLS: here is the stream to upgrade.
    StartTls(S),
}

/// The deadlines of one conversation: each command within `command`,
/// each piece of message data within `data`, all of it before `end`.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    command: Duration,
    data: Duration,
    end: Instant,
}

impl Clock {
    pub fn start(timeouts: &SmtpTimeouts) -> Self {
        Self {
            command: timeouts.command,
            data: timeouts.data,
            end: Instant::now() + timeouts.session,
        }
    }

    /// When everything, writes included, must be over.
    pub fn hard_end(&self) -> Instant {
        self.end + ANSWER_GRACE
    }

    /// The deadline of a read that may wait `wait`, and the phase a
    /// timeout is counted in (the session's own when its end comes first).
    fn deadline(&self, wait: Duration, phase: &'static str) -> (Instant, &'static str) {
        let at = Instant::now() + wait;
        if at < self.end {
            (at, phase)
        } else {
            (self.end, "session")
        }
    }
}

/// Reads with `read` until the deadline; past it, the timeout is counted
/// and the read fails with `TimedOut`.
async fn bounded<T>(
    (at, phase): (Instant, &'static str),
    read: impl std::future::Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    dmarcflow_listen::within(at, LISTENER, phase, read).await
}

#[derive(Default)]
struct Envelope {
    hello: bool,
    /// The HELO/EHLO name.
    helo: String,
    from: Option<String>,
    to: Vec<String>,
}

pub async fn session<S, P>(
    stream: S,
    secure: bool,
    peer: &str,
    shared: &Arc<Shared<P>>,
    clock: Clock,
) -> std::io::Result<End<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    P: Publish,
{
    let config = &shared.config;
    let mut io = BufReader::new(stream);
    if !secure {
        reply(&mut io, &format!("220 {} ESMTP dmarcflow", config.hostname)).await?;
    }
    let mut envelope = Envelope::default();
    let mut messages = 0u64;
    loop {
        let line = match command(&mut io, &clock).await {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(End::Closed),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                // RFC 5321 4.5.3.2: the server may close after a timeout,
                // saying so with a 421 if the client still listens.
                let bye = format!("421 4.4.2 {} Timeout, closing connection", config.hostname);
                let _ = tokio::time::timeout(TIMEOUT_REPLY_WAIT, reply(&mut io, &bye)).await;
                return Ok(End::Closed);
            }
            Err(e) => return Err(e),
        };
        let (verb, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if !config.lmtp => {
                envelope = Envelope {
                    hello: true,
                    helo: rest.trim().to_ascii_lowercase(),
                    ..Envelope::default()
                };
                reply(
                    &mut io,
                    &capabilities(config, secure, verb.eq_ignore_ascii_case("EHLO")),
                )
                .await?;
            }
            "LHLO" if config.lmtp => {
                envelope = Envelope {
                    hello: true,
                    ..Envelope::default()
                };
                reply(&mut io, &capabilities(config, secure, true)).await?;
            }
            "STARTTLS" if !secure && config.tls.is_some() => {
                reply(&mut io, "220 2.0.0 Ready to start TLS").await?;
                if !io.buffer().is_empty() {
                    // Commands sent before the handshake (RFC 3207 4.2).
                    return Ok(End::Closed);
                }
                return Ok(End::StartTls(io.into_inner()));
            }
            "MAIL" => {
                let answer = mail(&mut envelope, rest, config, secure);
                reply(&mut io, answer).await?;
            }
            "RCPT" => {
                let answer = rcpt(&mut envelope, rest, config);
                reply(&mut io, answer).await?;
            }
            "DATA" => {
                if envelope.to.is_empty() {
                    reply(&mut io, "503 5.5.1 Need RCPT first").await?;
                    continue;
                }
                if receive(&mut io, &envelope, shared, peer, &clock, &mut messages).await? {
                    envelope = Envelope {
                        hello: true,
                        helo: envelope.helo,
                        ..Envelope::default()
                    };
                }
            }
            "RSET" => {
                envelope = Envelope {
                    hello: envelope.hello,
                    helo: envelope.helo,
                    ..Envelope::default()
                };
                reply(&mut io, "250 2.0.0 Ok").await?;
            }
            "NOOP" => reply(&mut io, "250 2.0.0 Ok").await?,
            "VRFY" => reply(&mut io, "252 2.5.0 Cannot verify, send mail").await?,
            "QUIT" => {
                reply(&mut io, "221 2.0.0 Bye").await?;
                return Ok(End::Closed);
            }
            _ => reply(&mut io, "502 5.5.2 Command not recognised").await?,
        }
    }
}

/// MAIL FROM: the answer, and the envelope started when it is 250.
fn mail(envelope: &mut Envelope, rest: &str, config: &SmtpConfig, secure: bool) -> &'static str {
    if !envelope.hello {
        return "503 5.5.1 Say hello first";
    }
    if config.require_tls && !secure {
        return "530 5.7.0 Must issue a STARTTLS command first";
    }
    match address(rest, "FROM:") {
        None => "501 5.5.4 Syntax: MAIL FROM:<address>",
        Some((_, params))
            if declared_size(params).is_some_and(|n| n > config.max_message_bytes) =>
        {
            "552 5.3.4 Message too big"
        }
        Some((from, _)) => {
            envelope.from = Some(from);
            envelope.to.clear();
            "250 2.1.0 Ok"
        }
    }
}

/// RCPT TO: the answer, and the recipient added when it is 250.
fn rcpt(envelope: &mut Envelope, rest: &str, config: &SmtpConfig) -> &'static str {
    match (&envelope.from, address(rest, "TO:")) {
        (None, _) => "503 5.5.1 Need MAIL first",
        (_, None) => "501 5.5.4 Syntax: RCPT TO:<address>",
        (_, Some((to, _))) if !config.accepts(&to) => "550 5.7.1 Recipient not accepted here",
        (_, Some((to, _))) => {
            envelope.to.push(to);
            "250 2.1.5 Ok"
        }
    }
}

/// DATA: the message read, delivered and answered (once per recipient
/// over LMTP). False when the budget had no room to start (answered 451
/// before any data; the envelope stands).
async fn receive<S, P>(
    io: &mut BufReader<S>,
    envelope: &Envelope,
    shared: &Arc<Shared<P>>,
    peer: &str,
    clock: &Clock,
    messages: &mut u64,
) -> std::io::Result<bool>
where
    S: AsyncRead + AsyncWrite + Unpin,
    P: Publish,
{
    let config = &shared.config;
    // Room for a small message, or the sender is told before it sends
    // anything. Promising the parse's room before the data is what keeps
    // concurrent senders from starving each other (all holding bytes, none
    // with room to parse); the price is that a client stalled in DATA
    // holds it until the data timeout.
    let mut held = shared.budget.empty();
    if !held.grow(shared.working_bytes(0), Some(BUDGET_WAIT)).await {
        reply(io, BUSY).await?;
        return Ok(false);
    }
    reply(io, "354 End data with <CR><LF>.<CR><LF>").await?;
    let data = message(io, config.max_message_bytes, &mut held, clock).await?;
    *messages += 1;
    let answer = match data {
        Data::TooBig => "552 5.3.4 Message too big".to_owned(),
        Data::Busy => BUSY.to_owned(),
        Data::Complete(data) => {
            let working = shared.working_bytes(data.len() as u64);
            let more = working.saturating_sub(held.bytes());
            if held.grow(more, Some(BUDGET_WAIT)).await {
                let origin = format!("smtp:{peer}#{messages}");
                // SPF needs the sender's own server: not an LMTP client
                // (the MTA in front).
                let sender = peer
                    .parse::<std::net::SocketAddr>()
                    .ok()
                    .filter(|_| !config.lmtp)
                    .map(|addr| dmarcflow_enrich::Envelope {
                        peer: addr.ip(),
                        helo: envelope.helo.clone(),
                        mail_from: envelope.from.clone().unwrap_or_default(),
                    });
                deliver(shared, data, origin, sender.as_ref()).await
            } else {
                BUSY.to_owned()
            }
        }
    };
    let replies = if config.lmtp { envelope.to.len() } else { 1 };
    for _ in 0..replies {
        reply(io, &answer).await?;
    }
    Ok(true)
}

/// Parses a message, publishes all it holds, and says what to answer.
async fn deliver<P: Publish>(
    shared: &Arc<Shared<P>>,
    data: Vec<u8>,
    origin: String,
    sender: Option<&dmarcflow_enrich::Envelope>,
) -> String {
    let received_at = crate::received_now();
    crate::source_metrics::received("smtp", data.len());
    let data = bytes::Bytes::from(data);
    let timeout = shared.config.bus_timeout;
    match shared
        .deliver(
            data,
            origin.clone(),
            received_at,
            timeout,
            sender.map_or(crate::Carrier::Email, crate::Carrier::Smtp),
        )
        .await
    {
        Ok(done) => {
            let (reports, rejected) = (done.reports.len(), done.rejected.len());
            tracing::info!(%origin, reports, rejected, "smtp message accepted");
            format!("250 2.0.0 Ok: {reports} reports queued, {rejected} rejected")
        }
        Err(Undelivered::Parser) => "451 4.3.0 Internal error, try again later".to_owned(),
        Err(Undelivered::Bus(e)) => {
            tracing::warn!(error = %e, %origin, "bus unavailable; asking the sender to retry");
            format!("451 4.3.0 Report bus unavailable, try again later ({e})")
        }
    }
}

fn capabilities(config: &SmtpConfig, secure: bool, extended: bool) -> String {
    if !extended {
        return format!("250 {}", config.hostname);
    }
    let mut lines = vec![
        config.hostname.clone(),
        "PIPELINING".to_owned(),
        format!("SIZE {}", config.max_message_bytes),
        "8BITMIME".to_owned(),
        "ENHANCEDSTATUSCODES".to_owned(),
    ];
    if !secure && config.tls.is_some() {
        lines.push("STARTTLS".to_owned());
    }
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// `FROM:<a@b> SIZE=123` -> (`a@b`, `SIZE=123`).
fn address<'l>(rest: &'l str, prefix: &str) -> Option<(String, &'l str)> {
    let rest = rest.trim_start();
    if !rest.get(..prefix.len())?.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = rest[prefix.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some((inner[..end].to_owned(), inner[end + 1..].trim()))
}

fn declared_size(params: &str) -> Option<usize> {
    params
        .split_whitespace()
        .find_map(|p| {
            p.get(..5)
                .filter(|k| k.eq_ignore_ascii_case("SIZE="))
                .and(p.get(5..))
        })
        .and_then(|n| n.parse().ok())
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    text: &str,
) -> std::io::Result<()> {
    // One write: a reply in two segments would wait for the client's
    // delayed acknowledgement of the first.
    let mut line = Vec::with_capacity(text.len() + 2);
    line.extend_from_slice(text.as_bytes());
    line.extend_from_slice(b"\r\n");
    let stream = io.get_mut();
    stream.write_all(&line).await?;
    stream.flush().await
}

/// The next command line without its line end; None when the client left.
/// A read past the command timeout (or the session's end) fails with
/// `TimedOut`.
async fn command<S: AsyncRead + Unpin>(
    io: &mut BufReader<S>,
    clock: &Clock,
) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let mut limited = (&mut *io).take(MAX_COMMAND);
    let read = limited.read_until(b'\n', &mut line);
    match bounded(clock.deadline(clock.command, "command"), read).await? {
        0 => Ok(None),
        _ if !line.ends_with(b"\n") => Ok(None),
        _ => Ok(Some(String::from_utf8_lossy(&line).trim_end().to_owned())),
    }
}

/// What the client sent after DATA.
enum Data {
    /// The message, dot-unstuffed.
    Complete(Vec<u8>),
    /// Over the size limit (read to its end all the same, so the
    /// conversation can go on).
    TooBig,
    /// The memory budget had no room for it (read to its end and dropped).
    Busy,
}

/// Reads the message after DATA a bounded chunk at a time (a line may be
/// of any length), holding its bytes in `held` as they arrive. Each chunk
/// must come within the data timeout (and the session's end).
async fn message<S: AsyncRead + Unpin>(
    io: &mut BufReader<S>,
    max: usize,
    held: &mut Reservation,
    clock: &Clock,
) -> std::io::Result<Data> {
    let mut data = Vec::new();
    let mut refused: Option<Data> = None;
    let mut line = Vec::new();
    let mut line_start = true;
    loop {
        line.clear();
        let mut chunk = (&mut *io).take(CHUNK);
        let n = bounded(
            clock.deadline(clock.data, "data"),
            chunk.read_until(b'\n', &mut line),
        )
        .await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed in DATA",
            ));
        }
        if line_start && (line == b".\r\n" || line == b".\n") {
            return Ok(refused.unwrap_or(Data::Complete(data)));
        }
        let content = match line_start {
            true => line.strip_prefix(b".").unwrap_or(&line),
            false => &line,
        };
        line_start = line.ends_with(b"\n");
        if refused.is_some() {
            continue;
        }
        let size = data.len() + content.len();
        if size > max {
            refused = Some(Data::TooBig);
        } else if size as u64 > held.bytes() {
            let more = (size as u64 - held.bytes()).max(CHUNK);
            if !held.grow(more, Some(BUDGET_WAIT)).await {
                refused = Some(Data::Busy);
            }
        }
        match refused {
            Some(_) => {
                data = Vec::new();
                held.release();
            }
            None => data.extend_from_slice(content),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_arguments() {
        assert_eq!(
            address("FROM:<a@b.example> SIZE=10", "FROM:"),
            Some(("a@b.example".into(), "SIZE=10"))
        );
        assert_eq!(address("to: <x@y>", "TO:"), Some(("x@y".into(), "")));
        assert_eq!(address("FROM:a@b", "FROM:"), None);
        assert_eq!(declared_size("BODY=8BITMIME SIZE=42"), Some(42));
    }
}
