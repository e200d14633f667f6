//! What can go wrong reading a store, with the underlying error kept as the cause.

/// The error underneath a source error: rusqlite's, librdkafka's, an io error.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A setting that cannot work: an unknown mapping key, a field spec of the wrong kind, a
/// name that is not a valid identifier. Found before (or while) a store is opened, but a
/// mistake in the settings, not in the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadOption(pub String);

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The store could not be opened or reached.
    #[error("{message}")]
    Open {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// The store is there but not laid out as the mapping or preset expects.
    #[error("{0}")]
    Schema(String),
    #[error("no aggregate {id:?} in this store{}", did_you_mean(.suggestions))]
    UnknownAggregate {
        id: String,
        suggestions: Vec<String>,
    },
    /// A read failed.
    #[error("{message}")]
    Read {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// A position that this store cannot hold, or that names nothing in it.
    #[error("{0}")]
    Position(String),
    #[error(transparent)]
    Option(#[from] BadOption),
}

impl SourceError {
    pub fn open(message: impl Into<String>) -> SourceError {
        SourceError::Open {
            message: message.into(),
            cause: None,
        }
    }

    pub fn open_with(message: impl Into<String>, cause: impl Into<Cause>) -> SourceError {
        SourceError::Open {
            message: message.into(),
            cause: Some(cause.into()),
        }
    }

    pub fn read(message: impl Into<String>) -> SourceError {
        SourceError::Read {
            message: message.into(),
            cause: None,
        }
    }

    pub fn read_with(message: impl Into<String>, cause: impl Into<Cause>) -> SourceError {
        SourceError::Read {
            message: message.into(),
            cause: Some(cause.into()),
        }
    }

    /// The message with its causes, for front ends that show one line (the UI).
    pub fn describe(&self) -> String {
        crate::display::error_chain(self)
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        "; list them with `rewind aggregates SOURCE`".to_string()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_kept_and_said_once() {
        let io = std::io::Error::other("disk on fire");
        let err = SourceError::read_with("could not read events from s.db", io);
        assert_eq!(err.to_string(), "could not read events from s.db");
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(
            err.describe(),
            "could not read events from s.db: disk on fire"
        );
        let repeated = SourceError::read_with(
            "cannot open x: disk on fire",
            std::io::Error::other("disk on fire"),
        );
        assert_eq!(repeated.describe(), "cannot open x: disk on fire");
    }
}
