//! An mbox read one message at a time: an archive of gigabytes costs one
//! message of memory. A message is what lies between two `From ` lines at
//! the start of a line; the separator line itself is dropped (as
//! `dmarcflow_parse::mime::split_mbox` does for an mbox in memory).

use std::io::{self, BufRead};

/// One message of an mbox, or one over the limit (skipped to the next
/// separator, never held whole).
#[derive(Debug, PartialEq, Eq)]
pub enum MboxMessage {
    Message(Vec<u8>),
    TooLarge { size: u64 },
}

pub struct MboxReader<R> {
    input: R,
    max_message_bytes: u64,
    line: Vec<u8>,
}

/// Longest line read in one piece; a longer one is read in pieces (it is
/// never a separator, which is short).
const MAX_LINE: u64 = 64 << 10;

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R, max_message_bytes: u64) -> Self {
        Self {
            input,
            max_message_bytes,
            line: Vec::new(),
        }
    }

    /// The next line (or piece of a long line); false at the end.
    fn next_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        let n = io::Read::take(&mut self.input, MAX_LINE).read_until(b'\n', &mut self.line)?;
        Ok(n > 0)
    }

    /// The next message; None at the end of the mbox.
    pub fn next_message(&mut self) -> io::Result<Option<MboxMessage>> {
        let mut data = Vec::new();
        let mut size = 0u64;
        let mut line_start = true;
        loop {
            if !self.next_line()? {
                return Ok(self.finish(data, size));
            }
            let is_separator = line_start && self.line.starts_with(b"From ");
            line_start = self.line.ends_with(b"\n");
            if is_separator {
                match self.finish(std::mem::take(&mut data), size) {
                    Some(message) => return Ok(Some(message)),
                    None => {
                        size = 0;
                        continue;
                    }
                }
            }
            size += self.line.len() as u64;
            if size <= self.max_message_bytes {
                data.extend_from_slice(&self.line);
            } else {
                data = Vec::new();
            }
        }
    }

    /// A message that ended; None for nothing (before the first separator,
    /// or white space only).
    fn finish(&self, data: Vec<u8>, size: u64) -> Option<MboxMessage> {
        if size > self.max_message_bytes {
            return Some(MboxMessage::TooLarge { size });
        }
        (!data.iter().all(u8::is_ascii_whitespace)).then_some(MboxMessage::Message(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(mbox: &[u8], max: u64) -> Vec<MboxMessage> {
        let mut reader = MboxReader::new(mbox, max);
        let mut out = Vec::new();
        while let Some(m) = reader.next_message().unwrap_or_else(|e| panic!("{e}")) {
            out.push(m);
        }
        out
    }

    #[test]
    fn messages_one_at_a_time() {
        let mbox = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\nFrom c@d Mon Jan  1 00:00:00 2024\nSubject: two\n\nbody2\n";
        assert_eq!(
            all(mbox, 1 << 20),
            vec![
                MboxMessage::Message(b"Subject: one\n\nbody\n".to_vec()),
                MboxMessage::Message(b"Subject: two\n\nbody2\n".to_vec()),
            ]
        );
        // The same split as the in-memory one.
        let in_memory: Vec<Vec<u8>> = dmarcflow_parse::mime::split_mbox(mbox)
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
        let streamed: Vec<Vec<u8>> = all(mbox, 1 << 20)
            .into_iter()
            .filter_map(|m| match m {
                MboxMessage::Message(d) => Some(d),
                MboxMessage::TooLarge { .. } => None,
            })
            .collect();
        assert_eq!(in_memory, streamed);
    }

    #[test]
    fn an_oversized_message_is_skipped_not_held() {
        let mut mbox = b"From a@b x\nSubject: big\n\n".to_vec();
        mbox.extend(std::iter::repeat_n(b'x', 300_000));
        mbox.extend_from_slice(b"\nFrom c@d y\nSubject: small\n\nok\n");
        let got = all(&mbox, 100_000);
        assert!(matches!(got[0], MboxMessage::TooLarge { size } if size > 300_000));
        assert_eq!(
            got[1],
            MboxMessage::Message(b"Subject: small\n\nok\n".to_vec())
        );
        assert_eq!(got.len(), 2);
    }
}
