//! One SMTP session as a state machine with no I/O: bytes in, replies out,
//! and a [`Step`] whenever it needs the world (is this recipient ours?
//! store this message). The listener drives it over a socket; the property
//! test drives it over mutated transcripts, millions of times, without one.
//!
//! Replies are queued in [`Session::take_output`] and written by the caller
//! only when it is about to wait for input, so a pipelining client (RFC
//! 2920) gets one write per batch of commands.

use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver, RequestReceiver};
use smtp_proto::{Error as ProtoError, MAIL_SMTPUTF8, Request};
use std::fmt::Write as _;

/// Bad commands tolerated in one session before it is closed.
const MAX_ERRORS: u32 = 20;

#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest message taken, in bytes (advertised as SIZE).
    pub max_message_bytes: usize,
    /// Recipients per message.
    pub max_recipients: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_message_bytes: 25 * 1024 * 1024, max_recipients: 100 }
    }
}

/// A reply: code, enhanced status code (RFC 3463) and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub status: &'static str,
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, status: &'static str, text: impl Into<String>) -> Self {
        Reply { code, status, text: text.into() }
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        // One line whatever the text holds: a CR or LF in it would forge a reply.
        let text: String = self.text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let line = match self.status {
            "" => format!("{} {text}\r\n", self.code),
            status => format!("{} {status} {text}\r\n", self.code),
        };
        out.extend_from_slice(line.as_bytes());
    }
}

/// The envelope of one message: MAIL FROM (empty for the null reverse
/// path of bounces) and the accepted RCPT TO addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
    /// The client asked for SMTPUTF8.
    pub utf8: bool,
}

/// What the session needs before it can go on.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Write the output and read more input.
    Read,
    /// Is this address ours? Answer with [`Session::recipient`].
    Recipient(String),
    /// Store this message, then answer with [`Session::delivered`]: the
    /// client is told 250 only once it is stored.
    Deliver(Envelope, Vec<u8>),
    /// Write the output, drop any input already read (RFC 3207: nothing
    /// sent before the handshake may count after it) and start TLS, then a
    /// new session with `secure` set.
    StartTls,
    /// Write the output and close the connection.
    Close,
}

enum State {
    Commands,
    /// Waiting for the answer to `Step::Recipient`.
    Recipient(String),
    Data(DataReceiver, Vec<u8>),
    /// Over the size limit: the rest of the message is read and dropped.
    Discard(DummyDataReceiver),
    /// Waiting for the answer to `Step::Deliver`.
    Delivering,
    Closed,
}

pub struct Session {
    hostname: String,
    limits: Limits,
    /// STARTTLS can be offered (a certificate is configured).
    tls: bool,
    /// TLS is on already.
    secure: bool,
    state: State,
    requests: RequestReceiver,
    greeted: bool,
    envelope: Option<Envelope>,
    /// Part of a line that failed to parse is still to be skipped.
    skipping: bool,
    errors: u32,
    out: Vec<u8>,
}

impl Session {
    /// A session that has just greeted the client.
    pub fn new(hostname: &str, limits: Limits, tls: bool, secure: bool) -> Self {
        let mut session = Session {
            hostname: hostname.to_string(),
            limits,
            tls,
            secure,
            state: State::Commands,
            requests: RequestReceiver::default(),
            greeted: false,
            envelope: None,
            skipping: false,
            errors: 0,
            out: Vec::new(),
        };
        if !secure {
            let greeting = format!("{} ESMTP Switchboard\r\n", session.hostname);
            session.out.extend_from_slice(b"220 ");
            session.out.extend_from_slice(greeting.as_bytes());
        }
        session
    }

    /// The replies not yet written.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    fn reply(&mut self, code: u16, status: &'static str, text: impl Into<String>) {
        Reply::new(code, status, text).write_to(&mut self.out);
    }

    /// Consumes as much of `input` as it can and says what it needs next.
    pub fn advance(&mut self, input: &mut &[u8]) -> Step {
        loop {
            match &mut self.state {
                State::Closed => return Step::Close,
                State::Recipient(address) => return Step::Recipient(address.clone()),
                State::Delivering => return Step::Read,
                State::Data(receiver, buf) => {
                    let mut bytes = input.iter();
                    let done = receiver.ingest(&mut bytes, buf);
                    *input = bytes.as_slice();
                    if buf.len() > self.limits.max_message_bytes {
                        if done {
                            self.too_big();
                        } else {
                            // Read on to the final dot without keeping anything.
                            self.state = State::Discard(DummyDataReceiver::new_data(receiver));
                        }
                        continue;
                    }
                    if !done {
                        return Step::Read;
                    }
                    let data = std::mem::take(buf);
                    let envelope = self.envelope.take().unwrap_or_default();
                    self.state = State::Delivering;
                    return Step::Deliver(envelope, data);
                }
                State::Discard(receiver) => {
                    let mut bytes = input.iter();
                    let done = receiver.ingest(&mut bytes);
                    *input = bytes.as_slice();
                    if !done {
                        return Step::Read;
                    }
                    self.too_big();
                }
                State::Commands => {
                    if let Some(step) = self.command(input) {
                        return step;
                    }
                }
            }
        }
    }

    /// Ends a message that was over the limit: nothing is kept.
    fn too_big(&mut self) {
        self.state = State::Commands;
        self.envelope = None;
        let max = self.limits.max_message_bytes;
        self.reply(552, "5.3.4", format!("message too big: at most {max} bytes"));
    }

    /// Reads and handles one command; `None` to go on with the next.
    fn command(&mut self, input: &mut &[u8]) -> Option<Step> {
        if self.skipping {
            match input.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    *input = &input[at + 1..];
                    self.skipping = false;
                }
                None => {
                    *input = &[];
                    return Some(Step::Read);
                }
            }
        }
        let before = *input;
        let mut bytes = input.iter();
        let parsed = self.requests.ingest(&mut bytes).map(Request::into_owned);
        *input = bytes.as_slice();
        match parsed {
            Ok(request) => self.request(request),
            Err(ProtoError::NeedsMoreData { .. }) => {
                // The receiver keeps the unfinished line itself; what the
                // parser left unread is in that copy.
                *input = &[];
                Some(Step::Read)
            }
            Err(e) => {
                // The parser stops at the end of a bad line, mostly: if it
                // did not, skip to it, so the next command starts clean.
                let used = before.len() - input.len();
                if used == 0 || before[used - 1] != b'\n' {
                    self.skipping = true;
                }
                self.refuse(e)
            }
        }
    }

    fn refuse(&mut self, e: ProtoError) -> Option<Step> {
        self.errors += 1;
        if self.errors > MAX_ERRORS {
            self.reply(421, "4.7.0", "too many errors; closing");
            self.state = State::Closed;
            return Some(Step::Close);
        }
        match e {
            ProtoError::UnknownCommand => self.reply(500, "5.5.1", "unknown command"),
            ProtoError::InvalidSenderAddress => self.reply(501, "5.1.7", "bad sender address"),
            ProtoError::InvalidRecipientAddress => self.reply(501, "5.1.3", "bad recipient address"),
            ProtoError::SyntaxError { syntax } => self.reply(501, "5.5.2", format!("syntax: {syntax}")),
            ProtoError::InvalidParameter { param } => self.reply(501, "5.5.4", format!("bad parameter {param}")),
            ProtoError::UnsupportedParameter { param } => {
                self.reply(504, "5.5.4", format!("parameter not supported: {param}"))
            }
            ProtoError::ResponseTooLong => self.reply(500, "5.5.2", "line too long"),
            ProtoError::NeedsMoreData { .. } | ProtoError::InvalidResponse { .. } => {
                self.reply(500, "5.5.2", "syntax error")
            }
        }
        None
    }

    fn request(&mut self, request: Request<String>) -> Option<Step> {
        match request {
            Request::Ehlo { host } => {
                self.greeted = true;
                self.envelope = None;
                let mut lines = vec![format!("{} greets {host}", self.hostname)];
                lines.push("PIPELINING".into());
                lines.push(format!("SIZE {}", self.limits.max_message_bytes));
                lines.push("8BITMIME".into());
                lines.push("SMTPUTF8".into());
                lines.push("ENHANCEDSTATUSCODES".into());
                if self.tls && !self.secure {
                    lines.push("STARTTLS".into());
                }
                let last = lines.len() - 1;
                let mut text = String::new();
                for (i, line) in lines.iter().enumerate() {
                    let sep = if i == last { ' ' } else { '-' };
                    let _ = write!(text, "250{sep}{line}\r\n");
                }
                self.out.extend_from_slice(text.as_bytes());
            }
            Request::Helo { host } => {
                self.greeted = true;
                self.envelope = None;
                self.reply(250, "2.0.0", format!("{} greets {host}", self.hostname));
            }
            Request::Mail { from } => {
                if !self.greeted {
                    self.reply(503, "5.5.1", "say EHLO first");
                } else if self.envelope.is_some() {
                    self.reply(503, "5.5.1", "a message is already started; RSET first");
                } else if from.size > self.limits.max_message_bytes {
                    let max = self.limits.max_message_bytes;
                    self.reply(552, "5.3.4", format!("message too big: at most {max} bytes"));
                } else {
                    let utf8 = from.flags & MAIL_SMTPUTF8 != 0;
                    self.envelope = Some(Envelope { from: from.address, to: Vec::new(), utf8 });
                    self.reply(250, "2.1.0", "sender ok");
                }
            }
            Request::Rcpt { to } => match &self.envelope {
                None => self.reply(503, "5.5.1", "MAIL first"),
                Some(e) if e.to.len() >= self.limits.max_recipients => self.reply(452, "4.5.3", "too many recipients"),
                Some(_) => {
                    self.state = State::Recipient(to.address.clone());
                    return Some(Step::Recipient(to.address));
                }
            },
            Request::Data => match &self.envelope {
                Some(e) if !e.to.is_empty() => {
                    self.reply(354, "", "end data with <CR><LF>.<CR><LF>");
                    self.state = State::Data(DataReceiver::new(), Vec::new());
                }
                Some(_) => self.reply(503, "5.5.1", "no valid recipients"),
                None => self.reply(503, "5.5.1", "MAIL first"),
            },
            Request::Rset => {
                self.envelope = None;
                self.reply(250, "2.0.0", "reset");
            }
            Request::Noop { .. } => self.reply(250, "2.0.0", "ok"),
            Request::Quit => {
                self.reply(221, "2.0.0", "bye");
                self.state = State::Closed;
                return Some(Step::Close);
            }
            Request::StartTls => {
                if self.secure {
                    self.reply(503, "5.5.1", "TLS is on already");
                } else if !self.tls {
                    self.reply(502, "5.5.1", "STARTTLS is not offered here");
                } else {
                    self.reply(220, "2.0.0", "ready to start TLS");
                    self.state = State::Closed;
                    return Some(Step::StartTls);
                }
            }
            Request::Bdat { .. } => {
                // Not advertised (no CHUNKING): the chunk that follows will
                // be read as commands and refused too.
                self.reply(502, "5.5.1", "BDAT is not offered here");
            }
            Request::Vrfy { .. } => self.reply(252, "2.5.0", "cannot verify; send the message"),
            Request::Lhlo { .. }
            | Request::Auth { .. }
            | Request::Expn { .. }
            | Request::Help { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.reply(502, "5.5.1", "command not implemented"),
        }
        None
    }

    /// The answer to [`Step::Recipient`]: whether the address is one of ours.
    pub fn recipient(&mut self, accepted: bool) {
        let State::Recipient(address) = std::mem::replace(&mut self.state, State::Commands) else { return };
        if accepted && let Some(e) = &mut self.envelope {
            e.to.push(address);
            self.reply(250, "2.1.5", "recipient ok");
        } else {
            self.reply(550, "5.1.1", format!("no mailbox here by the name <{address}>"));
        }
    }

    /// The answer to [`Step::Deliver`]: 250 once it is stored, or why not.
    pub fn delivered(&mut self, reply: Reply) {
        if matches!(self.state, State::Delivering) {
            self.state = State::Commands;
            reply.write_to(&mut self.out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `input` through a session that takes every recipient at
    /// `ours.example` and stores every message; answers the output.
    fn run(input: &[u8], limits: Limits) -> (String, Vec<(Envelope, Vec<u8>)>) {
        let mut s = Session::new("mx.test", limits, false, false);
        let mut rest = input;
        let mut stored = Vec::new();
        loop {
            match s.advance(&mut rest) {
                Step::Read if rest.is_empty() => break,
                Step::Read => panic!("asked for more with input left"),
                Step::Recipient(a) => s.recipient(a.ends_with("@ours.example")),
                Step::Deliver(e, d) => {
                    stored.push((e, d));
                    s.delivered(Reply::new(250, "2.0.0", "stored"));
                }
                Step::StartTls | Step::Close => break,
            }
        }
        (String::from_utf8_lossy(&s.take_output()).into_owned(), stored)
    }

    #[test]
    fn a_pipelined_message_is_stored_with_its_dots_unstuffed() {
        let input = b"EHLO client\r\nMAIL FROM:<a@b.example> SIZE=100\r\nRCPT TO:<x@ours.example>\r\nRCPT TO:<y@elsewhere.example>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
        let (out, stored) = run(input, Limits::default());
        let codes: Vec<&str> = out.lines().map(|l| &l[..3]).collect();
        assert_eq!(codes.first(), Some(&"220"));
        assert!(out.contains("250-PIPELINING") && out.contains("250-SIZE 26214400") && out.contains("SMTPUTF8"));
        assert!(out.contains("550 5.1.1"), "{out}");
        assert!(out.ends_with("250 2.0.0 stored\r\n221 2.0.0 bye\r\n"), "{out}");
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].0.to, vec!["x@ours.example".to_string()]);
        assert_eq!(stored[0].1, b"Subject: hi\r\n\r\n.dot\r\n");
    }

    #[test]
    fn too_big_is_refused_and_nothing_stored() {
        let limits = Limits { max_message_bytes: 64, ..Limits::default() };
        let big = format!(
            "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@ours.example>\r\nDATA\r\n{}\r\n.\r\nNOOP\r\n",
            "x".repeat(200)
        );
        let (out, stored) = run(big.as_bytes(), limits.clone());
        assert!(stored.is_empty());
        assert!(out.contains("552 5.3.4"), "{out}");
        assert!(out.ends_with("250 2.0.0 ok\r\n"), "the session goes on: {out}");
        let (out, _) = run(b"EHLO c\r\nMAIL FROM:<a@b.example> SIZE=1000\r\n", limits);
        assert!(out.ends_with("552 5.3.4 message too big: at most 64 bytes\r\n"), "{out}");
    }

    #[test]
    fn garbage_gets_a_5xx_and_the_session_goes_on() {
        let (out, _) = run(
            b"\x00\xff garbage\r\nMAIL FROM:<a@b>\r\nHELO c\r\nRCPT TO:<x@ours.example>\r\nNOOP\r\n",
            Limits::default(),
        );
        let codes: Vec<&str> = out.lines().map(|l| &l[..3]).collect();
        assert_eq!(codes, ["220", "500", "503", "250", "503", "250"], "{out}");
    }

    #[test]
    fn starttls_is_offered_only_with_a_certificate() {
        let mut s = Session::new("mx.test", Limits::default(), true, false);
        let mut input: &[u8] = b"EHLO c\r\nSTARTTLS\r\nEHLO injected\r\n";
        assert_eq!(s.advance(&mut input), Step::StartTls);
        let out = String::from_utf8(s.take_output()).unwrap();
        assert!(out.contains("250 STARTTLS\r\n") && out.ends_with("220 2.0.0 ready to start TLS\r\n"), "{out}");
        let (out, _) = run(b"EHLO c\r\nSTARTTLS\r\n", Limits::default());
        assert!(!out.contains("STARTTLS\r\n250") && out.ends_with("502 5.5.1 STARTTLS is not offered here\r\n"));
    }
}
