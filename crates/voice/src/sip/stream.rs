//! Cutting a byte stream into SIP messages (RFC 3261 §18.3): on a stream
//! the Content-Length, which must be there, says where a message ends.
//! CRLFs between messages are keep-alives (RFC 5626 §3.5.1) and skipped.
//! The header block and the whole message are bounded, so a peer that
//! never ends its headers, or announces a huge body, costs at most that
//! much memory before its connection is closed.
//!
//! How the bytes arrive never changes what comes out: the stream cut in
//! any chunks gives the same messages, and the same error, as all at once
//! (`tests/sip.rs` checks it).

use crate::sip::validate::MAX_MESSAGE;
use thiserror::Error;

/// The longest header block (start line and headers) accepted.
pub const MAX_HEADERS: usize = 16 * 1024;

/// Why the stream cannot be read on: the connection is answered (when it
/// can be) and closed, since where the next message starts is unknown.
#[derive(Debug, Clone, Copy, Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("the headers run past {MAX_HEADERS} bytes")]
    HeadersTooLarge,
    #[error("no Content-Length on a stream")]
    NoContentLength,
    #[error("Content-Length is not a number, or appears twice with different values")]
    BadContentLength,
    #[error("the message is larger than {MAX_MESSAGE} bytes")]
    TooLarge,
}

impl FrameError {
    /// The status a request that broke framing is answered with.
    pub fn status(self) -> u16 {
        match self {
            FrameError::TooLarge | FrameError::HeadersTooLarge => 513,
            FrameError::NoContentLength | FrameError::BadContentLength => 400,
        }
    }
}

/// The bytes read and not yet cut into a message.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Set once framing failed: nothing more comes out.
    failed: Option<FrameError>,
}

impl Framer {
    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next whole message, `None` until one is complete. After an
    /// error the same error comes back: the stream is lost.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let keep_alive = self.buf.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        self.buf.drain(..keep_alive);
        if self.buf.is_empty() {
            return Ok(None);
        }
        // Only the first MAX_HEADERS + 4 bytes are searched, so the verdict does not depend on how much came at once.
        let window = &self.buf[..self.buf.len().min(MAX_HEADERS + 4)];
        let Some(end) = window.windows(4).position(|w| w == b"\r\n\r\n") else {
            return if window.len() >= MAX_HEADERS + 4 { self.fail(FrameError::HeadersTooLarge) } else { Ok(None) };
        };
        if end > MAX_HEADERS {
            return self.fail(FrameError::HeadersTooLarge);
        }
        let length = match content_length(&self.buf[..end]) {
            Ok(n) => n,
            Err(e) => return self.fail(e),
        };
        let total = end + 4 + length;
        if total > MAX_MESSAGE {
            return self.fail(FrameError::TooLarge);
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        Ok(Some(std::mem::replace(&mut self.buf, rest)))
    }

    /// The header block of the message being read, for answering a framing error.
    pub fn head(&self) -> &[u8] {
        let end = self.buf.windows(4).position(|w| w == b"\r\n\r\n").map_or(self.buf.len(), |e| e + 4);
        &self.buf[..end.min(MAX_HEADERS + 4)]
    }

    fn fail(&mut self, e: FrameError) -> Result<Option<Vec<u8>>, FrameError> {
        self.failed = Some(e);
        Err(e)
    }
}

/// The Content-Length (or its compact `l`) of a header block; repeats must agree.
fn content_length(head: &[u8]) -> Result<usize, FrameError> {
    let mut found: Option<usize> = None;
    // The start line is skipped; a folded Content-Length is not a number here, as nothing sends one.
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let name = line[..colon].trim_ascii();
        if !name.eq_ignore_ascii_case(b"content-length") && !name.eq_ignore_ascii_case(b"l") {
            continue;
        }
        let value = line[colon + 1..].trim_ascii();
        // Ten digits is past any size we take; more cannot be read without overflow.
        if value.is_empty() || value.len() > 10 || !value.iter().all(u8::is_ascii_digit) {
            return Err(FrameError::BadContentLength);
        }
        let n = value.iter().fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
        if found.is_some_and(|f| f != n) {
            return Err(FrameError::BadContentLength);
        }
        found = Some(n);
    }
    found.ok_or(FrameError::NoContentLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nl: 4\r\n\r\nbody";

    #[test]
    fn cuts_by_content_length_and_skips_keep_alives() {
        let mut f = Framer::default();
        f.push(b"\r\n\r\n");
        f.push(OPTIONS);
        f.push(b"\r\nOPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n");
        assert_eq!(f.next_message(), Ok(Some(OPTIONS.to_vec())));
        assert_eq!(f.next_message(), Ok(None));
        f.push(b"\r\n");
        assert_eq!(f.next_message().unwrap().unwrap().len(), 46);
        assert_eq!(f.next_message(), Ok(None));
    }

    #[test]
    fn refuses_what_cannot_be_framed() {
        let verdict = |bytes: &[u8]| {
            let mut f = Framer::default();
            f.push(bytes);
            f.next_message()
        };
        assert_eq!(verdict(b"OPTIONS sip:a@b SIP/2.0\r\n\r\n"), Err(FrameError::NoContentLength));
        assert_eq!(verdict(b"X\r\nContent-Length: -1\r\n\r\n"), Err(FrameError::BadContentLength));
        assert_eq!(verdict(b"X\r\nl: 1\r\nl: 2\r\n\r\nab"), Err(FrameError::BadContentLength));
        assert_eq!(verdict(b"X\r\nl: 99999999999\r\n\r\n"), Err(FrameError::BadContentLength));
        assert_eq!(verdict(b"X\r\nl: 40000\r\n\r\n"), Err(FrameError::TooLarge));
        assert_eq!(verdict(&vec![b'a'; MAX_HEADERS + 4]), Err(FrameError::HeadersTooLarge));
        assert_eq!(verdict(&vec![b'a'; MAX_HEADERS + 3]), Ok(None));
    }
}
