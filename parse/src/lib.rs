//! Sans-I/O parsing: the bytes a mailbox receives become typed reports.
//!
//! Data flows `ingest -> parse -> schemas -> bus -> sink -> store`. This crate never
//! does I/O or async: it takes bytes (or a caller's reader), finds report
//! payloads in an email ([`mime`]), decides what each is by its magic bytes
//! ([`detect`]), decompresses within [`Limits`] ([`decompress`]), and parses
//! aggregate XML ([`aggregate`]), ARF failure reports ([`failure`]) and TLS
//! reports ([`tlsrpt`]) into the types of `dmarcflow-schemas`, borrowing text
//! from the decompressed buffer.
//!
//! [`Parser::extract`] then [`Parser::parse_payload`] is the whole path for
//! one input; [`stream_aggregate`] parses a report too large for memory.

pub mod aggregate;
pub mod decompress;
pub mod detect;
mod error;
pub mod failure;
#[doc(hidden)]
pub mod fuzz_targets;
mod item;
mod limits;
pub mod mime;
mod pipeline;
pub mod text;
pub mod tlsrpt;

pub use error::ParseError;
pub use item::{Extracted, Item};
pub use limits::Limits;
pub use pipeline::{stream_aggregate, Parser};
