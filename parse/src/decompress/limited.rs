//! The decompressed-size and ratio limits, enforced as a decoder produces.
//!
//! The ratio is measured against the compressed bytes the decoder has
//! consumed so far, never against the whole input: a 4 MB gzip of zeros is
//! stopped after about `ratio_grace` bytes of output, not after
//! `4 MB x max_ratio`. Each layer (gzip, zlib, zip member, a nested layer)
//! has its own [`Limited`] reader over its own [`Counted`] input.

use std::io::{self, BufRead, Read};

use flate2::bufread::{DeflateDecoder, GzDecoder, MultiGzDecoder, ZlibDecoder};

use crate::{Limits, ParseError};

/// Which limit a decoder hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitKind {
    /// The bytes this layer may produce (memory budget or `max_decompressed`).
    Size,
    /// Decompressed bytes per compressed byte consumed.
    Ratio,
}

/// The marker error a [`Limited`] reader fails with, recognised on the way out.
#[derive(Debug)]
pub(crate) struct LimitHit {
    pub kind: LimitKind,
    pub detail: String,
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for LimitHit {}

/// A compressed input that counts the bytes its decoder consumed.
pub(crate) struct Counted<R> {
    inner: R,
    consumed: u64,
}

impl<R> Counted<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, consumed: 0 }
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consumed += amount as u64;
        self.inner.consume(amount);
    }
}

/// A decoder that can say how much of its compressed input it consumed.
pub(crate) trait Consumed {
    fn consumed(&self) -> u64;
}

macro_rules! consumed_through_get_ref {
    ($($decoder:ident),*) => {$(
        impl<R> Consumed for $decoder<Counted<R>> {
            fn consumed(&self) -> u64 {
                self.get_ref().consumed
            }
        }
    )*};
}

consumed_through_get_ref!(GzDecoder, MultiGzDecoder, ZlibDecoder, DeflateDecoder);

/// Most bytes one `read` may produce before the limits are checked again,
/// so a single call cannot overshoot them by a large caller buffer.
const STEP: usize = 256 << 10;

/// Counts what a decoder produces and fails once past `cap`, or past
/// `max_ratio` times the compressed bytes consumed (beyond `ratio_grace`).
pub(crate) struct Limited<D> {
    inner: D,
    produced: u64,
    /// Compressed bytes consumed by earlier members of the same layer.
    consumed_before: u64,
    cap: u64,
    limits: Limits,
    layer: &'static str,
}

impl<D: Read + Consumed> Limited<D> {
    pub(crate) fn new(inner: D, cap: u64, limits: Limits, layer: &'static str) -> Self {
        Self {
            inner,
            produced: 0,
            consumed_before: 0,
            cap,
            limits,
            layer,
        }
    }

    /// For the second and later members of a multi-member gzip: the ratio
    /// counts the whole layer, not the member alone.
    pub(crate) fn continuing(mut self, produced: u64, consumed: u64) -> Self {
        self.produced = produced;
        self.consumed_before = consumed;
        self
    }

    fn consumed(&self) -> u64 {
        self.consumed_before + self.inner.consumed()
    }

    fn check(&self) -> io::Result<()> {
        if self.produced > self.cap {
            return Err(io::Error::other(LimitHit {
                kind: LimitKind::Size,
                detail: format!(
                    "{} layer: decompressed size passed {} bytes",
                    self.layer, self.cap
                ),
            }));
        }
        let consumed = self.consumed();
        let ratio_cap = consumed.max(1).saturating_mul(self.limits.max_ratio);
        if self.produced > self.limits.ratio_grace && self.produced > ratio_cap {
            return Err(io::Error::other(LimitHit {
                kind: LimitKind::Ratio,
                detail: format!(
                    "{} layer: decompression ratio passed {}:1 ({} bytes out of the first {} compressed bytes)",
                    self.layer, self.limits.max_ratio, self.produced, consumed
                ),
            }));
        }
        Ok(())
    }

    pub(crate) fn into_inner(self) -> D {
        self.inner
    }

    /// Bytes produced so far (with earlier members).
    pub(crate) fn produced(&self) -> u64 {
        self.produced
    }
}

impl<D: Read + Consumed> Read for Limited<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len().min(STEP);
        let n = self.inner.read(&mut buf[..len])?;
        self.produced += n as u64;
        self.check()?;
        Ok(n)
    }
}

/// What a decoder's io error means: a limit hit keeps its kind.
pub(crate) enum Stop {
    Limit(LimitKind, String),
    Failed(ParseError),
}

impl Stop {
    pub(crate) fn from_io(e: io::Error, codec: &'static str) -> Self {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<LimitHit>())
        {
            Some(hit) => Self::Limit(hit.kind, hit.detail.clone()),
            None => Self::Failed(ParseError::Decompress {
                codec,
                detail: e.to_string(),
            }),
        }
    }

    pub(crate) fn into_error(self) -> ParseError {
        match self {
            Self::Limit(_, detail) => ParseError::LimitExceeded(detail),
            Self::Failed(e) => e,
        }
    }
}

/// Maps a decoder's io error to a typed error: a limit hit stays a limit hit.
pub(crate) fn io_to_parse(e: io::Error, codec: &'static str) -> ParseError {
    Stop::from_io(e, codec).into_error()
}
