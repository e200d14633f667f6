//! Reading a JSON Lines transcript back, checking that it is complete and not newer than
//! this rewind understands.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::diff::{Change, ChangeKind, JsonPath};
use crate::model::transcript::wire::{
    WireBound, WireChange, WireClosing, WireEnd, WireHeader, WireIssue, WireProblem, WireSnapshot,
    WireStep,
};
use crate::model::transcript::{
    Bound, Closing, Header, SnapshotMark, Step, FORMAT_VERSION, MARKER, MAX_LINE_DEPTH,
    MAX_LINE_VALUES,
};
use crate::model::{
    Event, EventIssue, Payload, Snapshot, SnapshotOutcome, StepProblem, StorePosition,
};

/// A transcript read back from JSON Lines.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadTranscript {
    pub header: Header,
    pub steps: Vec<Step>,
    pub closing: Closing,
}

/// Why a transcript could not be read; each says where and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("it is empty")]
    Empty,
    #[error("it is not a rewind transcript (its first line has no \"{MARKER}\" marker)")]
    NotATranscript,
    #[error("it is a trace (its first line is a \"rewind_trace\" header): one request across aggregates, written to be read, not reopened; run `rewind trace` on the store it came from to see it again")]
    ATrace,
    #[error("it is transcript format version {found}, newer than version {FORMAT_VERSION} that this rewind reads; upgrade rewind to open it")]
    NewerVersion { found: u64 },
    #[error("it is truncated: {0}; export it again")]
    Truncated(String),
    #[error("line {line} is not a valid transcript line: {reason}")]
    Invalid { line: usize, reason: String },
}

/// Reads a whole transcript, checking that it is complete.
pub fn read(text: &str) -> Result<ReadTranscript, ReadError> {
    let mut lines = text
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.trim().is_empty());
    let (_, first) = lines.next().ok_or(ReadError::Empty)?;
    let mut reader = LineReader::start(first)?;
    // Grown as lines arrive: the header's count is untrusted until the end line confirms it.
    let mut steps = Vec::new();
    for (number, text) in lines {
        steps.extend(reader.line(number, text)?);
    }
    let (header, closing) = reader.finish()?;
    Ok(ReadTranscript {
        header,
        steps,
        closing,
    })
}

/// A transcript read a line at a time, each line checked as it comes (step numbers in
/// order, one end line, nothing after it), so a file can be read without holding it.
pub struct LineReader {
    header: Header,
    steps: usize,
    closing: Option<Closing>,
}

impl LineReader {
    /// Starts with the header line.
    pub fn start(first: &str) -> Result<LineReader, ReadError> {
        Ok(LineReader {
            header: read_header(first)?,
            steps: 0,
            closing: None,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next non-blank line, `number` counting from 1 at the header: a step, or `None`
    /// for the end line.
    pub fn line(&mut self, number: usize, text: &str) -> Result<Option<Step>, ReadError> {
        let complete = text.ends_with('\n');
        let value: Value = parse_line(text, number)?.map_err(|err| {
            if err.is_eof() || !complete {
                ReadError::Truncated(format!("line {number} ends part-way"))
            } else {
                invalid(number, err)
            }
        })?;
        if self.closing.is_some() {
            return Err(ReadError::Invalid {
                line: number,
                reason: "nothing may follow the end line".into(),
            });
        }
        if value.get("end").is_some() {
            let wire: WireEnd = serde_json::from_value(value).map_err(|e| invalid(number, e))?;
            if wire.end.steps != self.steps {
                return Err(ReadError::Invalid {
                    line: number,
                    reason: format!(
                        "the end line counts {} steps but the file has {}",
                        wire.end.steps, self.steps
                    ),
                });
            }
            self.closing = Some(read_closing(wire.end, &self.header, number)?);
            Ok(None)
        } else if value.get("step").is_some() {
            let wire: WireStep = serde_json::from_value(value).map_err(|e| invalid(number, e))?;
            if wire.step != self.steps + 1 {
                return Err(ReadError::Invalid {
                    line: number,
                    reason: format!("expected step {}, found step {}", self.steps + 1, wire.step),
                });
            }
            self.steps += 1;
            read_step(wire, &self.header, number).map(Some)
        } else {
            Err(ReadError::Invalid {
                line: number,
                reason: "it is neither a step nor the end line".into(),
            })
        }
    }

    /// The header and the end line, once every line is in.
    pub fn finish(self) -> Result<(Header, Closing), ReadError> {
        let Some(closing) = self.closing else {
            return Err(ReadError::Truncated(format!(
                "it stops after step {} of {}, without its end line",
                self.steps, self.header.steps
            )));
        };
        if self.steps != self.header.steps {
            return Err(ReadError::Invalid {
                line: 1,
                reason: format!(
                    "the header announces {} steps but the file has {}",
                    self.header.steps, self.steps
                ),
            });
        }
        Ok((self.header, closing))
    }
}

/// One step's line read again (after [`LineReader`] checked it), for a transcript whose
/// steps stay in the file.
pub fn read_step_line(text: &str, number: usize, header: &Header) -> Result<Step, ReadError> {
    let value = parse_line(text, number)?.map_err(|e| invalid(number, e))?;
    let wire: WireStep = serde_json::from_value(value).map_err(|e| invalid(number, e))?;
    read_step(wire, header, number)
}

/// Does this text start like a transcript? Used to recognise files whatever their name.
pub fn has_marker(start: &[u8]) -> bool {
    let text = String::from_utf8_lossy(start);
    let rest = text.trim_start().strip_prefix('{').unwrap_or("");
    rest.trim_start().starts_with(&format!("\"{MARKER}\""))
}

fn read_header(line: &str) -> Result<Header, ReadError> {
    if !has_marker(line.as_bytes()) {
        return Err(match line.contains("\"rewind_trace\":") {
            true => ReadError::ATrace,
            false => ReadError::NotATranscript,
        });
    }
    let value: Value = parse_line(line, 1)?.map_err(|err| {
        if err.is_eof() || !line.ends_with('\n') {
            ReadError::Truncated("its header line ends part-way".into())
        } else {
            invalid(1, err)
        }
    })?;
    // The version is checked before the fields, so a newer file gets the upgrade message
    // rather than complaints about fields this rewind does not know.
    let found = value
        .get(MARKER)
        .and_then(Value::as_u64)
        .ok_or_else(|| ReadError::Invalid {
            line: 1,
            reason: format!("\"{MARKER}\" must be a whole number"),
        })?;
    if found > FORMAT_VERSION {
        return Err(ReadError::NewerVersion { found });
    }
    let wire: WireHeader = serde_json::from_value(value).map_err(|e| invalid(1, e))?;
    Ok(Header {
        source: wire.source,
        aggregate: wire.aggregate,
        aggregate_type: wire.aggregate_type,
        reducer: wire.reducer,
        rewind_version: wire.rewind_version,
        generated_at: time(&wire.generated_at, 1)?,
        from: read_bound(wire.from)?,
        to: read_bound(wire.to)?,
        history_events: wire.history_events,
        steps: wire.steps,
        redacted: wire.redacted,
        redacted_unmatched: wire.redacted_unmatched,
        start_state: wire.start_state,
    })
}

/// Parses one line, as deep as the writer nests them: values as deep as rewind holds them,
/// inside their envelope. serde_json's own limit (128) would refuse the deepest payloads
/// once wrapped, so the depth is checked here, without recursion, and the limit lifted.
fn parse_line(text: &str, line: usize) -> Result<serde_json::Result<Value>, ReadError> {
    use serde::Deserialize;
    if let Err(reason) = crate::model::check_json(text.as_bytes(), MAX_LINE_DEPTH, MAX_LINE_VALUES)
    {
        return Err(ReadError::Invalid {
            line,
            reason: format!("it is {reason}"),
        });
    }
    let mut parser = serde_json::Deserializer::from_str(text);
    parser.disable_recursion_limit();
    Ok(Value::deserialize(&mut parser).and_then(|value| parser.end().map(|()| value)))
}

fn read_bound(wire: WireBound) -> Result<Bound, ReadError> {
    Ok(Bound {
        requested: wire.requested,
        version: wire.version,
        events: wire.events,
        timestamp: wire.timestamp.as_deref().map(|t| time(t, 1)).transpose()?,
    })
}

fn read_step(wire: WireStep, header: &Header, line: usize) -> Result<Step, ReadError> {
    let event = Event {
        aggregate_id: header.aggregate.clone(),
        aggregate_type: header.aggregate_type.clone(),
        version: wire.version,
        // A transcript's own order is its steps'.
        position: StorePosition::Seq(i64::try_from(wire.step).unwrap_or(i64::MAX)),
        event_id: wire.event_id,
        event_type: wire.event_type,
        timestamp: wire
            .timestamp
            .as_deref()
            .map(|t| time(t, line))
            .transpose()?,
        // Transcripts write times in UTC.
        time_offset: None,
        data: join_payload(wire.data, wire.raw, wire.error),
        metadata: wire.metadata.into(),
        issues: wire
            .issues
            .into_iter()
            .map(|issue| read_issue(issue, line))
            .collect::<Result<_, _>>()?,
    };
    let problem = match wire.problem {
        None => None,
        Some(WireProblem { kind, message }) => Some(match kind.as_str() {
            "undecodable" => StepProblem::Undecodable(message),
            "reducer_failed" => StepProblem::ReducerFailed(message),
            other => return Err(unknown(line, "problem kind", other)),
        }),
    };
    Ok(Step {
        number: wire.step,
        event,
        warnings: wire.warnings,
        problem,
        changes: read_changes(wire.changes, line)?,
        state: wire.state,
        snapshots: wire
            .snapshots
            .into_iter()
            .map(|s| read_snapshot(s, header, line))
            .collect::<Result<_, _>>()?,
    })
}

fn read_closing(wire: WireClosing, header: &Header, line: usize) -> Result<Closing, ReadError> {
    Ok(Closing {
        net: read_changes(wire.net, line)?,
        state: wire.state,
        snapshots_beyond: wire
            .snapshots_beyond
            .into_iter()
            .map(|s| read_snapshot(s, header, line))
            .collect::<Result<_, _>>()?,
    })
}

fn join_payload(data: Value, raw: Option<String>, error: Option<String>) -> Payload {
    match (raw, error) {
        (Some(raw), Some(error)) => Payload::Undecodable { raw, error },
        (Some(raw), None) => Payload::Undecodable {
            raw,
            error: "undecodable".into(),
        },
        (None, _) => Payload::from_value(data),
    }
}

fn read_issue(issue: WireIssue, line: usize) -> Result<EventIssue, ReadError> {
    Ok(match issue.kind.as_str() {
        "unparseable_timestamp" => EventIssue::UnparseableTimestamp(issue.detail),
        "bad_metadata" => EventIssue::BadMetadata(issue.detail),
        "null_column" => EventIssue::NullColumn(issue.detail),
        "bad_version" => EventIssue::BadVersion(issue.detail),
        other => return Err(unknown(line, "issue kind", other)),
    })
}

fn read_snapshot(
    wire: WireSnapshot,
    header: &Header,
    line: usize,
) -> Result<SnapshotMark, ReadError> {
    let state = join_payload(wire.state, wire.raw, wire.error);
    let outcome = match wire.check.as_str() {
        "agrees" => SnapshotOutcome::Agrees,
        "differs" => SnapshotOutcome::Differs(read_changes(wire.differences, line)?),
        "undecodable" => {
            SnapshotOutcome::Undecodable(state.error().unwrap_or("undecodable").to_string())
        }
        "beyond_history" => SnapshotOutcome::BeyondHistory,
        other => return Err(unknown(line, "snapshot check", other)),
    };
    Ok(SnapshotMark {
        snapshot: Snapshot {
            aggregate_id: header.aggregate.clone(),
            version: wire.version,
            state,
            timestamp: wire
                .created_at
                .as_deref()
                .map(|t| time(t, line))
                .transpose()?,
        },
        outcome,
    })
}

/// `old` and `new` are written `null` both when absent and when the value is null; the op
/// says which.
fn read_changes(changes: Vec<WireChange>, line: usize) -> Result<Vec<Change>, ReadError> {
    changes
        .into_iter()
        .map(|wire| {
            let path = JsonPath::parse(&wire.path).map_err(|err| ReadError::Invalid {
                line,
                reason: err.to_string(),
            })?;
            let value = |v: Option<Value>| Some(v.unwrap_or(Value::Null));
            let (kind, old, new) = match wire.op.as_str() {
                "added" => (ChangeKind::Added, None, value(wire.new)),
                "removed" => (ChangeKind::Removed, value(wire.old), None),
                "changed" => (ChangeKind::Changed, value(wire.old), value(wire.new)),
                other => return Err(unknown(line, "change op", other)),
            };
            Ok(Change {
                path,
                kind,
                old,
                new,
            })
        })
        .collect()
}

fn time(text: &str, line: usize) -> Result<DateTime<Utc>, ReadError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ReadError::Invalid {
            line,
            reason: format!("{text:?} is not an RFC 3339 time"),
        })
}

fn invalid(line: usize, err: serde_json::Error) -> ReadError {
    ReadError::Invalid {
        line,
        reason: err.to_string(),
    }
}

fn unknown(line: usize, what: &str, found: &str) -> ReadError {
    ReadError::Invalid {
        line,
        reason: format!("unknown {what} {found:?}"),
    }
}
