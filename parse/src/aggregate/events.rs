//! Where XML events come from: a UTF-8 buffer in memory (events borrow from
//! it) or a stream (events are owned, the buffer reused).

use std::io::BufRead;

use quick_xml::events::Event;
use quick_xml::Reader;

/// A source of XML events living at least as long as `'x`.
pub trait EventSource<'x> {
    fn next_event(&mut self) -> Result<Event<'x>, quick_xml::Error>;
    /// Byte offset reached, for error messages.
    fn position(&self) -> u64;
}

fn tolerant<R>(reader: &mut Reader<R>) {
    let config = reader.config_mut();
    // Real reports forget closing tags; the parser recovers from the names.
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    config.expand_empty_elements = false;
}

/// Events borrowed from a UTF-8 buffer.
pub struct SliceSource<'x> {
    reader: Reader<&'x [u8]>,
}

impl<'x> SliceSource<'x> {
    pub fn new(text: &'x str) -> Self {
        let mut reader = Reader::from_str(text);
        tolerant(&mut reader);
        Self { reader }
    }
}

impl<'x> EventSource<'x> for SliceSource<'x> {
    fn next_event(&mut self) -> Result<Event<'x>, quick_xml::Error> {
        self.reader.read_event()
    }

    fn position(&self) -> u64 {
        self.reader.buffer_position()
    }
}

/// Owned events from a UTF-8 stream; memory stays at one event.
pub struct StreamSource<R> {
    reader: Reader<R>,
    buf: Vec<u8>,
}

impl<R: BufRead> StreamSource<R> {
    pub fn new(input: R) -> Self {
        let mut reader = Reader::from_reader(input);
        tolerant(&mut reader);
        Self {
            reader,
            buf: Vec::with_capacity(4096),
        }
    }
}

impl<R: BufRead> EventSource<'static> for StreamSource<R> {
    fn next_event(&mut self) -> Result<Event<'static>, quick_xml::Error> {
        self.buf.clear();
        self.reader
            .read_event_into(&mut self.buf)
            .map(Event::into_owned)
    }

    fn position(&self) -> u64 {
        self.reader.buffer_position()
    }
}
