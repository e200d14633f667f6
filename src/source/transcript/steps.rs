//! A transcript's steps where they are: in its file, found by an index of where each step's
//! line starts (16 bytes a step), read back a window at a time; or, for a transcript read
//! from text (fuzzing, tests), in memory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::model::transcript::{Header, Step};
use crate::model::{RecordedState, RecordedStep, RecordedSteps};

use super::read::read_step_line;
use super::MAX_LINE_BYTES;

/// Steps parsed per read of the file: what a fold or a page takes next.
const WINDOW: usize = 256;

/// Fewer steps are parsed at a time when their lines are long: a window holds about this
/// much text (and at least one step), since parsed JSON costs several times its text.
const WINDOW_BYTES: u64 = 8 << 20;

pub enum Steps {
    Memory(Vec<Step>),
    File(Arc<StepFile>),
}

pub struct StepFile {
    path: PathBuf,
    header: Header,
    /// Where each step's line starts.
    offsets: Vec<u64>,
    versions: Vec<u64>,
    /// Step indices ordered by (version, index), to find a version's steps.
    by_version: Vec<u32>,
    reader: Mutex<Reader>,
}

struct Reader {
    file: Option<BufReader<File>>,
    /// The steps read last, from `first`.
    first: usize,
    window: Vec<Step>,
}

impl StepFile {
    pub fn new(path: PathBuf, header: Header, offsets: Vec<u64>, versions: Vec<u64>) -> StepFile {
        let mut by_version: Vec<u32> = (0..versions.len() as u32).collect();
        by_version.sort_by_key(|&i| (versions[i as usize], i));
        StepFile {
            path,
            header,
            offsets,
            versions,
            by_version,
            reader: Mutex::new(Reader {
                file: None,
                first: 0,
                window: Vec::new(),
            }),
        }
    }

    /// Reads the steps of `range` from the file again. The file was checked whole when it
    /// was opened: a step that no longer reads means it changed since.
    fn read(&self, reader: &mut Reader, range: Range<usize>) -> Result<Vec<Step>, String> {
        let changed = || {
            format!(
                "{} changed since rewind opened it; open it again",
                self.path.display()
            )
        };
        let Some(&offset) = self.offsets.get(range.start) else {
            return Ok(Vec::new());
        };
        if reader.file.is_none() {
            let file =
                File::open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
            reader.file = Some(BufReader::new(file));
        }
        let file = reader.file.as_mut().ok_or_else(changed)?;
        file.seek(SeekFrom::Start(offset)).map_err(|_| changed())?;
        let mut steps = Vec::with_capacity(range.len().min(WINDOW * 4));
        let mut line = String::new();
        // Where the reader is, counted from the lines read (asking the file would cost a
        // system call a line).
        let mut at = offset;
        for index in range {
            let next = self.offsets.get(index + 1).copied();
            // Blank lines between steps are skipped, as when the file was first read.
            loop {
                if next.is_some_and(|next| at >= next) {
                    return Err(changed());
                }
                line.clear();
                // Bounded as when the file was first read: it may have changed since.
                let read = (&mut *file)
                    .take(MAX_LINE_BYTES + 1)
                    .read_line(&mut line)
                    .map_err(|_| changed())?;
                if read == 0 || read as u64 > MAX_LINE_BYTES {
                    return Err(changed());
                }
                at += read as u64;
                if !line.trim().is_empty() {
                    break;
                }
            }
            let step = read_step_line(&line, index + 2, &self.header).map_err(|_| changed())?;
            if step.number != index + 1 {
                return Err(changed());
            }
            steps.push(step);
        }
        Ok(steps)
    }

    /// Where a window read from step `index` ends: `WINDOW` steps on, or sooner once their
    /// lines add up to `WINDOW_BYTES`.
    fn window_end(&self, index: usize) -> usize {
        let limit = (index + WINDOW).min(self.offsets.len());
        let Some(&start) = self.offsets.get(index) else {
            return limit;
        };
        let mut end = (index + 1).min(limit);
        while end < limit && self.offsets[end] - start < WINDOW_BYTES {
            end += 1;
        }
        end
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Reader> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One step, from the window of steps read last or a new window from it.
    fn cached<T>(&self, index: usize, pick: impl FnOnce(&Step) -> T) -> Option<T> {
        let mut reader = self.lock();
        let held = index >= reader.first && index < reader.first + reader.window.len();
        if !held {
            let end = self.window_end(index);
            let window = self.read(&mut reader, index..end).ok()?;
            reader.first = index;
            reader.window = window;
        }
        let first = reader.first;
        reader.window.get(index - first).map(pick)
    }
}

impl Steps {
    pub fn len(&self) -> usize {
        match self {
            Steps::Memory(steps) => steps.len(),
            Steps::File(file) => file.offsets.len(),
        }
    }

    /// The steps of `range` (clamped to the transcript).
    pub fn range(&self, range: Range<usize>) -> Result<Vec<Step>, String> {
        let range = range.start.min(self.len())..range.end.min(self.len());
        match self {
            Steps::Memory(steps) => Ok(steps[range].to_vec()),
            Steps::File(file) => {
                let mut reader = file.lock();
                file.read(&mut reader, range)
            }
        }
    }
}

impl RecordedSteps for StepFile {
    fn len(&self) -> usize {
        self.offsets.len()
    }

    fn steps_of(&self, version: u64) -> Vec<usize> {
        let order = &self.by_version;
        let at = order.partition_point(|&i| self.versions[i as usize] < version);
        order[at..]
            .iter()
            .take_while(|&&i| self.versions[i as usize] == version)
            .map(|&i| i as usize)
            .collect()
    }

    fn step(&self, index: usize) -> Option<RecordedStep> {
        self.cached(index, recorded)
    }
}

/// What a step recorded: the state after it and why it failed, if it did.
pub fn recorded(step: &Step) -> RecordedStep {
    RecordedStep {
        version: step.event.version,
        state: match &step.state {
            Some(state) => RecordedState::Whole(state.clone()),
            None => RecordedState::Changes(step.changes.clone()),
        },
        problem: step.problem.clone(),
    }
}
