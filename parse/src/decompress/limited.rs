//! A reader that enforces the decompressed-size and ratio limits.

use std::io::{self, Read};

use crate::{Limits, ParseError};

/// The marker error a [`Limited`] reader fails with, recognised on the way out.
#[derive(Debug)]
pub(crate) struct LimitHit(pub String);

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitHit {}

/// Counts what a decoder produces and fails once past the size cap, or past
/// the ratio cap relative to `compressed_len`.
pub(crate) struct Limited<R> {
    inner: R,
    produced: u64,
    cap: u64,
    compressed_len: u64,
    limits: Limits,
}

impl<R> Limited<R> {
    pub(crate) fn new(inner: R, compressed_len: u64, cap: u64, limits: Limits) -> Self {
        Self {
            inner,
            produced: 0,
            cap,
            compressed_len,
            limits,
        }
    }

    fn check(&self) -> io::Result<()> {
        if self.produced > self.cap {
            return Err(io::Error::other(LimitHit(format!(
                "decompressed size passed {} bytes",
                self.cap
            ))));
        }
        let ratio_cap = self
            .compressed_len
            .max(1)
            .saturating_mul(self.limits.max_ratio);
        if self.produced > self.limits.ratio_grace && self.produced > ratio_cap {
            return Err(io::Error::other(LimitHit(format!(
                "decompression ratio passed {}:1 ({} compressed bytes)",
                self.limits.max_ratio, self.compressed_len
            ))));
        }
        Ok(())
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        self.check()?;
        Ok(n)
    }
}

impl<R> Limited<R> {
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// Bytes produced so far.
    pub(crate) fn produced(&self) -> u64 {
        self.produced
    }
}

/// Maps a decoder's io error to a typed error: a limit hit stays a limit hit.
pub(crate) fn io_to_parse(e: io::Error, codec: &'static str) -> ParseError {
    if let Some(hit) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitHit>())
    {
        return ParseError::LimitExceeded(hit.0.clone());
    }
    ParseError::Decompress {
        codec,
        detail: e.to_string(),
    }
}
