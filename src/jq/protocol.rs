//! The messages between rewind and its jq worker process, over the worker's stdin/stdout.
//!
//! A frame is a little-endian u32 length and that many bytes: a tag byte, then fields —
//! texts as a u32 length and bytes, counts as u32. Lengths are checked against what is left
//! of the frame and frames against a cap, so no buffer is ever sized from a length alone.
//! Hand-written rather than serde + a binary format: three message shapes of plain texts,
//! decoded in place without copying the events.

use std::io::{self, Read};

/// Sent once, first: the program to compile.
const PROGRAM: u8 = b'P';
const FOLD: u8 = b'F';
const MAP: u8 = b'M';
const COMPILED: u8 = b'C';
const PROGRESS: u8 = b'p';
const FOLDED: u8 = b'f';
const MAPPED: u8 = b'm';

/// A malformed frame: the two sides disagree, and the worker is not trusted further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("jq worker protocol: {0}")]
pub struct ProtocolError(pub String);

fn malformed(what: &str) -> ProtocolError {
    ProtocolError(what.to_string())
}

/// What the parent asks; texts borrow from the frame they were read from.
#[derive(Debug, PartialEq)]
pub enum Request<'a> {
    Program {
        origin: &'a str,
        code: &'a str,
    },
    /// Chains the events from `state` (`None`: from the state the previous fold ended with);
    /// a `None` event is skipped. The state is handed back after each mark's number of
    /// steps (ascending, the last one the number of events).
    Fold {
        state: Option<&'a [u8]>,
        events: Vec<Option<&'a [u8]>>,
        marks: Vec<usize>,
    },
    /// Runs the program on each `(input, $event)` on its own.
    Map {
        items: Vec<(&'a [u8], &'a [u8])>,
    },
}

/// How one step of a fold went.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Done,
    Skipped,
    Failed(String),
}

/// What the worker answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Compiled(Result<(), String>),
    /// Steps finished so far in the current job; sent while a job runs.
    Progress(u64),
    /// The steps, and the state at each mark as JSON text or why it cannot be handed back.
    Folded {
        steps: Vec<Step>,
        states: Vec<Result<String, String>>,
    },
    /// Each item's output as JSON text, or its error.
    Mapped {
        outputs: Vec<Result<String, String>>,
    },
}

/// Builds one frame; the length is filled in by `finish`.
struct Encoder(Vec<u8>);

impl Encoder {
    fn new(tag: u8, capacity: usize) -> Encoder {
        let mut bytes = Vec::with_capacity(capacity + 5);
        bytes.extend_from_slice(&[0, 0, 0, 0, tag]);
        Encoder(bytes)
    }

    fn byte(&mut self, byte: u8) {
        self.0.push(byte);
    }

    fn count(&mut self, count: usize) {
        // Frames are capped far below 4 GiB, so every count and length fits.
        self.0
            .extend_from_slice(&u32::try_from(count).unwrap_or(u32::MAX).to_le_bytes());
    }

    fn text(&mut self, text: &[u8]) {
        self.count(text.len());
        self.0.extend_from_slice(text);
    }

    fn finish(mut self) -> Vec<u8> {
        let body = u32::try_from(self.0.len() - 4).unwrap_or(u32::MAX);
        self.0[..4].copy_from_slice(&body.to_le_bytes());
        self.0
    }
}

/// Reads fields from one frame's body.
struct Decoder<'a>(&'a [u8]);

impl<'a> Decoder<'a> {
    fn byte(&mut self) -> Result<u8, ProtocolError> {
        let (&first, rest) = self.0.split_first().ok_or_else(|| malformed("truncated"))?;
        self.0 = rest;
        Ok(first)
    }

    fn u32(&mut self) -> Result<usize, ProtocolError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ProtocolError> {
        if len > self.0.len() {
            return Err(malformed("a length runs past the end of its frame"));
        }
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(taken)
    }

    fn text(&mut self) -> Result<&'a [u8], ProtocolError> {
        let len = self.u32()?;
        self.take(len)
    }

    fn string(&mut self) -> Result<String, ProtocolError> {
        Ok(String::from_utf8_lossy(self.text()?).into_owned())
    }

    fn str(&mut self) -> Result<&'a str, ProtocolError> {
        std::str::from_utf8(self.text()?).map_err(|_| malformed("a text is not UTF-8"))
    }

    /// A count of items that each take at least `min_item` bytes: more than the frame can
    /// hold is refused, so the vector it sizes is bounded by the frame.
    fn count(&mut self, min_item: usize) -> Result<usize, ProtocolError> {
        let count = self.u32()?;
        if count.saturating_mul(min_item) > self.0.len() {
            return Err(malformed("a count is larger than its frame"));
        }
        Ok(count)
    }

    fn end(self) -> Result<(), ProtocolError> {
        match self.0.is_empty() {
            true => Ok(()),
            false => Err(malformed("bytes left over after a message")),
        }
    }

    fn outcome(&mut self) -> Result<Result<String, String>, ProtocolError> {
        match self.byte()? {
            0 => Ok(Ok(self.string()?)),
            1 => Ok(Err(self.string()?)),
            _ => Err(malformed("unknown outcome")),
        }
    }
}

pub fn program(origin: &str, code: &str) -> Vec<u8> {
    let mut out = Encoder::new(PROGRAM, origin.len() + code.len() + 8);
    out.text(origin.as_bytes());
    out.text(code.as_bytes());
    out.finish()
}

pub fn fold<S: AsRef<str>>(state: Option<&str>, events: &[Option<S>], marks: &[usize]) -> Vec<u8> {
    let size: usize = events
        .iter()
        .map(|e| e.as_ref().map_or(1, |e| e.as_ref().len() + 5))
        .sum();
    let mut out = Encoder::new(
        FOLD,
        size + state.map_or(1, str::len) + 4 * marks.len() + 13,
    );
    match state {
        Some(state) => {
            out.byte(1);
            out.text(state.as_bytes());
        }
        None => out.byte(0),
    }
    out.count(events.len());
    for event in events {
        match event {
            Some(event) => {
                out.byte(1);
                out.text(event.as_ref().as_bytes());
            }
            None => out.byte(0),
        }
    }
    out.count(marks.len());
    for &mark in marks {
        out.count(mark);
    }
    out.finish()
}

pub fn map(items: &[(String, &str)]) -> Vec<u8> {
    let size: usize = items.iter().map(|(i, e)| i.len() + e.len() + 8).sum();
    let mut out = Encoder::new(MAP, size + 4);
    out.count(items.len());
    for (input, event) in items {
        out.text(input.as_bytes());
        out.text(event.as_bytes());
    }
    out.finish()
}

pub fn decode_request(frame: &[u8]) -> Result<Request<'_>, ProtocolError> {
    let mut input = Decoder(frame);
    let request = match input.byte()? {
        PROGRAM => Request::Program {
            origin: input.str()?,
            code: input.str()?,
        },
        FOLD => {
            let state = match input.byte()? {
                0 => None,
                _ => Some(input.text()?),
            };
            let count = input.count(1)?;
            let mut events = Vec::with_capacity(count);
            for _ in 0..count {
                events.push(match input.byte()? {
                    0 => None,
                    _ => Some(input.text()?),
                });
            }
            let count = input.count(4)?;
            let mut marks = Vec::with_capacity(count);
            for _ in 0..count {
                let mark = input.u32()?;
                if mark > events.len() || marks.last().is_some_and(|&last| mark <= last) {
                    return Err(malformed("marks out of order"));
                }
                marks.push(mark);
            }
            Request::Fold {
                state,
                events,
                marks,
            }
        }
        MAP => {
            let count = input.count(8)?;
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                items.push((input.text()?, input.text()?));
            }
            Request::Map { items }
        }
        _ => return Err(malformed("unknown request")),
    };
    input.end()?;
    Ok(request)
}

pub fn encode_reply(reply: &Reply) -> Vec<u8> {
    fn outcome(out: &mut Encoder, outcome: &Result<String, String>) {
        match outcome {
            Ok(text) => {
                out.byte(0);
                out.text(text.as_bytes());
            }
            Err(error) => {
                out.byte(1);
                out.text(error.as_bytes());
            }
        }
    }
    match reply {
        Reply::Compiled(result) => {
            let mut out = Encoder::new(COMPILED, 64);
            outcome(&mut out, &result.clone().map(|()| String::new()));
            out.finish()
        }
        Reply::Progress(count) => {
            let mut out = Encoder::new(PROGRESS, 8);
            out.0.extend_from_slice(&count.to_le_bytes());
            out.finish()
        }
        Reply::Folded { steps, states } => {
            let text: usize = states
                .iter()
                .map(|s| s.as_ref().map_or_else(String::len, String::len) + 5)
                .sum();
            let mut out = Encoder::new(FOLDED, steps.len() + text + 16);
            out.count(steps.len());
            for step in steps {
                match step {
                    Step::Done => out.byte(0),
                    Step::Skipped => out.byte(1),
                    Step::Failed(error) => {
                        out.byte(2);
                        out.text(error.as_bytes());
                    }
                }
            }
            out.count(states.len());
            for state in states {
                outcome(&mut out, state);
            }
            out.finish()
        }
        Reply::Mapped { outputs } => {
            let size: usize = outputs
                .iter()
                .map(|o| o.as_ref().map_or_else(String::len, String::len) + 5)
                .sum();
            let mut out = Encoder::new(MAPPED, size + 4);
            out.count(outputs.len());
            for output in outputs {
                outcome(&mut out, output);
            }
            out.finish()
        }
    }
}

pub fn decode_reply(frame: &[u8]) -> Result<Reply, ProtocolError> {
    let mut input = Decoder(frame);
    let reply = match input.byte()? {
        COMPILED => Reply::Compiled(input.outcome()?.map(|_| ())),
        PROGRESS => {
            let bytes = input.take(8)?;
            let mut count = [0; 8];
            count.copy_from_slice(bytes);
            Reply::Progress(u64::from_le_bytes(count))
        }
        FOLDED => {
            let count = input.count(1)?;
            let mut steps = Vec::with_capacity(count);
            for _ in 0..count {
                steps.push(match input.byte()? {
                    0 => Step::Done,
                    1 => Step::Skipped,
                    2 => Step::Failed(input.string()?),
                    _ => return Err(malformed("unknown step")),
                });
            }
            let count = input.count(5)?;
            let mut states = Vec::with_capacity(count);
            for _ in 0..count {
                states.push(input.outcome()?);
            }
            Reply::Folded { steps, states }
        }
        MAPPED => {
            let count = input.count(5)?;
            let mut outputs = Vec::with_capacity(count);
            for _ in 0..count {
                outputs.push(input.outcome()?);
            }
            Reply::Mapped { outputs }
        }
        _ => return Err(malformed("unknown reply")),
    };
    input.end()?;
    Ok(reply)
}

/// Reads one frame's body, blocking; `None` at a clean end of input. The body is read as it
/// arrives, so a length the other side claims costs nothing until its bytes come.
pub fn read_frame(input: &mut impl Read, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut header = [0; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    let len = u32::from_le_bytes(header) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a {len}-byte message is over the {max}-byte cap"),
        ));
    }
    let mut body = Vec::with_capacity(len.min(1 << 20));
    input.take(len as u64).read_to_end(&mut body)?;
    if body.len() < len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some(body))
}

/// Bytes received without blocking, cut into frames as they complete.
#[derive(Default)]
pub struct Inbox {
    bytes: Vec<u8>,
    start: usize,
}

impl Inbox {
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.bytes.len() {
            self.bytes.clear();
            self.start = 0;
        }
        self.bytes.extend_from_slice(bytes);
    }

    /// The next whole frame's body, if one has arrived.
    pub fn next_frame(&mut self, max: usize) -> Result<Option<Vec<u8>>, ProtocolError> {
        let pending = &self.bytes[self.start..];
        let Some(header) = pending.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len > max {
            return Err(ProtocolError(format!(
                "a {len}-byte message is over the {max}-byte cap"
            )));
        }
        let Some(body) = pending.get(4..4 + len) else {
            return Ok(None);
        };
        let body = body.to_vec();
        self.start += 4 + len;
        if self.start == self.bytes.len() {
            self.bytes.clear();
            self.start = 0;
        } else if self.start > self.bytes.len() / 2 {
            self.bytes.drain(..self.start);
            self.start = 0;
        }
        Ok(Some(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(frame: &[u8]) -> &[u8] {
        let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        assert_eq!(len, frame.len() - 4);
        &frame[4..]
    }

    #[test]
    fn requests_round_trip() {
        let frame = program("t.jq", ". + 1");
        assert_eq!(
            decode_request(body(&frame)),
            Ok(Request::Program {
                origin: "t.jq",
                code: ". + 1"
            })
        );
        let events = [Some("1".to_string()), None, Some("\"x\"".to_string())];
        let frame = fold(Some("{}"), &events, &[2, 3]);
        assert_eq!(
            decode_request(body(&frame)),
            Ok(Request::Fold {
                state: Some(b"{}".as_slice()),
                events: vec![Some(b"1".as_slice()), None, Some(b"\"x\"".as_slice())],
                marks: vec![2, 3],
            })
        );
        let backwards = fold(None, &events, &[3, 2]);
        assert!(decode_request(body(&backwards)).is_err());
        let frame = map(&[("1".to_string(), "null")]);
        assert_eq!(
            decode_request(body(&frame)),
            Ok(Request::Map {
                items: vec![(b"1".as_slice(), b"null".as_slice())]
            })
        );
    }

    #[test]
    fn replies_round_trip() {
        for reply in [
            Reply::Compiled(Ok(())),
            Reply::Compiled(Err("syntax".into())),
            Reply::Progress(u64::MAX - 1),
            Reply::Folded {
                steps: vec![Step::Done, Step::Skipped, Step::Failed("no".into())],
                states: vec![Ok("1".into()), Ok("{\"a\":1}".into())],
            },
            Reply::Folded {
                steps: vec![],
                states: vec![Err("too deep".into())],
            },
            Reply::Mapped {
                outputs: vec![Ok("true".into()), Err("boom".into())],
            },
        ] {
            assert_eq!(decode_reply(body(&encode_reply(&reply))), Ok(reply));
        }
    }

    #[test]
    fn counts_and_lengths_past_the_frame_are_refused() {
        // A fold claiming four billion events in a ten-byte frame.
        let mut frame = vec![FOLD, 0];
        frame.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_request(&frame).is_err());
        let mut frame = vec![MAPPED];
        frame.extend_from_slice(&1u32.to_le_bytes());
        frame.push(0);
        frame.extend_from_slice(&(1u32 << 30).to_le_bytes());
        assert!(decode_reply(&frame).is_err());
        assert!(decode_reply(b"?").is_err());
        assert!(decode_reply(&encode_reply(&Reply::Progress(1))[4..8]).is_err());
    }

    #[test]
    fn frames_over_the_cap_are_refused_before_their_bytes_arrive() {
        let mut claim = (u32::MAX).to_le_bytes().to_vec();
        claim.extend_from_slice(b"abc");
        assert!(read_frame(&mut claim.as_slice(), 1 << 20).is_err());
        let mut inbox = Inbox::default();
        inbox.push(&claim);
        assert!(inbox.next_frame(1 << 20).is_err());
    }

    #[test]
    fn the_inbox_cuts_frames_however_the_bytes_arrive() {
        let frames = [
            encode_reply(&Reply::Progress(3)),
            encode_reply(&Reply::Compiled(Ok(()))),
        ];
        let stream: Vec<u8> = frames.concat();
        let mut inbox = Inbox::default();
        let mut got = Vec::new();
        for byte in &stream {
            inbox.push(std::slice::from_ref(byte));
            while let Some(frame) = inbox.next_frame(1024).unwrap() {
                got.push(decode_reply(&frame).unwrap());
            }
        }
        assert_eq!(got, vec![Reply::Progress(3), Reply::Compiled(Ok(()))]);
        let mut reader = stream.as_slice();
        assert!(read_frame(&mut reader, 1024).unwrap().is_some());
        assert!(read_frame(&mut reader, 1024).unwrap().is_some());
        assert_eq!(read_frame(&mut reader, 1024).unwrap(), None);
    }
}
