//! Time limits of a request/response connection (HTTP/1.1) outside its
//! requests' bodies: how long it may sit idle between requests
//! (keep-alive) and how long a request head may take from its first byte
//! (for the first request: from the end of the TLS handshake), so a
//! client that sends one header byte every few seconds is closed at the
//! header timeout. The handler bounds the body (a minimum rate) itself.
//!
//! [`ClockedIo`] wraps the stream the protocol reads: whenever a read
//! waits, it waits no later than the current phase's deadline, and past it
//! the read fails with `TimedOut` (counted as `phase="keep_alive"` or
//! `"header"`), which ends the connection. [`RequestClock`] is told by the
//! service when a request's head has been read and when it was answered.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeouts {
    /// From a request's first byte (the connection's start for the first)
    /// to the end of its head.
    pub header: Duration,
    /// Between an answer and the next request's first byte.
    pub keep_alive: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Answered at this instant; the next request may come.
    Idle(Instant),
    /// A request head under way since this instant.
    Head(Instant),
    /// The head was read; the handler has the connection.
    Serving,
}

/// Where a connection is between requests, shared by its stream and its
/// service.
#[derive(Debug, Clone)]
pub struct RequestClock {
    phase: Arc<Mutex<Phase>>,
    timeouts: RequestTimeouts,
}

impl RequestClock {
    /// A clock for a connection whose first request starts now.
    pub fn start(timeouts: RequestTimeouts) -> Self {
        Self {
            phase: Arc::new(Mutex::new(Phase::Head(Instant::now()))),
            timeouts,
        }
    }

    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = phase;
    }

    /// A request's head was read: no connection deadline while it is served.
    pub fn serving(&self) {
        self.set(Phase::Serving);
    }

    /// The request was answered: the keep-alive wait starts.
    pub fn answered(&self) {
        self.set(Phase::Idle(Instant::now()));
    }

    fn bytes_arrived(&self) {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        if let Phase::Idle(_) = *phase {
            *phase = Phase::Head(Instant::now());
        }
    }

    /// When a waiting read gives up, and the phase it is counted in.
    fn deadline(&self) -> Option<(Instant, &'static str)> {
        match *self.phase.lock().unwrap_or_else(|e| e.into_inner()) {
            Phase::Idle(at) => Some((at + self.timeouts.keep_alive, "keep_alive")),
            Phase::Head(at) => Some((at + self.timeouts.header, "header")),
            Phase::Serving => None,
        }
    }
}

/// A stream whose reads wait no longer than its clock allows.
pub struct ClockedIo<S> {
    inner: S,
    clock: RequestClock,
    sleep: Pin<Box<Sleep>>,
    listener: &'static str,
}

impl<S> ClockedIo<S> {
    pub fn new(inner: S, clock: RequestClock, listener: &'static str) -> Self {
        let first = clock.deadline().map_or_else(Instant::now, |(at, _)| at);
        Self {
            inner,
            clock,
            sleep: Box::pin(tokio::time::sleep_until(first)),
            listener,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ClockedIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.clock.bytes_arrived();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                let Some((deadline, phase)) = this.clock.deadline() else {
                    return Poll::Pending;
                };
                if this.sleep.deadline() != deadline {
                    this.sleep.as_mut().reset(deadline);
                }
                if this.sleep.as_mut().poll(cx).is_ready() {
                    crate::timed_out(this.listener, phase);
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("{phase} timeout"),
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ClockedIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const TIMEOUTS: RequestTimeouts = RequestTimeouts {
        header: Duration::from_millis(300),
        keep_alive: Duration::from_millis(150),
    };

    #[tokio::test]
    async fn a_head_sent_a_byte_at_a_time_ends_at_the_header_timeout() {
        let (mut client, server) = tokio::io::duplex(64);
        let clock = RequestClock::start(TIMEOUTS);
        let mut io = ClockedIo::new(server, clock, "test");
        let started = Instant::now();
        let trickle = tokio::spawn(async move {
            for _ in 0..20 {
                if client.write_all(b"G").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let mut buf = [0u8; 16];
        let ended = loop {
            match io.read(&mut buf).await {
                Ok(0) => break None,
                Ok(_) => continue,
                Err(e) => break Some(e.kind()),
            }
        };
        assert_eq!(ended, Some(io::ErrorKind::TimedOut));
        let took = started.elapsed();
        assert!(
            took >= TIMEOUTS.header && took < Duration::from_millis(600),
            "{took:?}"
        );
        trickle.abort();
    }

    #[tokio::test]
    async fn serving_has_no_deadline_and_idle_has_keep_alive() {
        let (mut client, server) = tokio::io::duplex(64);
        let clock = RequestClock::start(TIMEOUTS);
        let mut io = ClockedIo::new(server, clock.clone(), "test");
        clock.serving();
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 4];
            let first = io.read(&mut buf).await.map_err(|e| e.kind());
            (io, first)
        });
        // Longer than both timeouts: no deadline while serving.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(client.write_all(b"body").await.is_ok());
        let (mut io, first) = reader.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first, Ok(4));
        clock.answered();
        let started = Instant::now();
        let mut buf = [0u8; 4];
        assert_eq!(
            io.read(&mut buf).await.map_err(|e| e.kind()),
            Err(io::ErrorKind::TimedOut)
        );
        let took = started.elapsed();
        assert!(
            took >= TIMEOUTS.keep_alive && took < TIMEOUTS.header,
            "{took:?}"
        );
    }
}
