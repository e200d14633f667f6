//! What can go wrong reading a store, with the underlying error kept as the cause.

/// The error underneath a source error: rusqlite's, librdkafka's, an io error.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A setting that cannot work: an unknown mapping key, a field spec of the wrong kind, a
/// name that is not a valid identifier. Found before (or while) a store is opened, but a
/// mistake in the settings, not in the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadOption(pub String);

/// An underlying error that a source error's message already says in other words (a
/// server's message quoted with a hint, an io error named plainly). It stays attached so
/// callers can inspect it (a SQLSTATE, an io error kind), but adds nothing to the one line
/// shown: its text is empty, and the chain stops at it.
#[derive(Debug)]
pub struct Rephrased(Cause);

impl Rephrased {
    pub fn new(err: impl Into<Cause>) -> Rephrased {
        Rephrased(err.into())
    }

    /// The error as it was raised.
    pub fn original(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl std::fmt::Display for Rephrased {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

impl std::error::Error for Rephrased {}

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

    /// A store that cannot be opened, said in other words than `cause` says it.
    pub fn open_rephrasing(message: impl Into<String>, cause: impl Into<Cause>) -> SourceError {
        SourceError::open_with(message, Rephrased::new(cause))
    }

    /// A failed read, said in other words than `cause` says it.
    pub fn read_rephrasing(message: impl Into<String>, cause: impl Into<Cause>) -> SourceError {
        SourceError::read_with(message, Rephrased::new(cause))
    }

    /// The error underneath, as it was raised, however the message words it.
    pub fn original_cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        let cause = match self {
            SourceError::Open { cause, .. } | SourceError::Read { cause, .. } => cause.as_ref()?,
            _ => return None,
        };
        Some(match cause.downcast_ref::<Rephrased>() {
            Some(rephrased) => rephrased.original(),
            None => &**cause,
        })
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

    #[test]
    fn a_rephrased_cause_is_kept_but_not_said_again() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let err = SourceError::open_rephrasing("cannot open s.db: permission denied", io);
        assert_eq!(err.describe(), "cannot open s.db: permission denied");
        let original = err.original_cause().unwrap();
        let io = original.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        // A plain cause is its own original.
        let plain = SourceError::read_with("x", std::io::Error::other("y"));
        assert_eq!(plain.original_cause().unwrap().to_string(), "y");
        assert!(SourceError::Schema("z".into()).original_cause().is_none());
    }
}
