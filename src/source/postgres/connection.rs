//! The session's one connection, and the read-only transaction a command holds on it.
//!
//! A CLI command sees one snapshot of the store from its first read to its last, so
//! everything it prints agrees: the source *holds* a `REPEATABLE READ READ ONLY`
//! transaction and runs each read in a savepoint inside it (a failed read is rolled back to
//! its savepoint, and the snapshot stays usable); the server takes the snapshot at the
//! transaction's first read. The UI never holds one: an open transaction pins the server's
//! oldest visible transaction id, and with it what vacuum may remove, for as long as a
//! person keeps the screen open; each of its reads is a transaction of its own. A follow
//! releases the snapshot before its first poll, so each poll sees what arrived.
//!
//! The held transaction borrows the client mutably for as long as it lives, so the two
//! live in one self-referencing value (ouroboros): the postgres crate offers portals only
//! on a `Transaction`, and a hand-rolled `BEGIN` on the bare client would leave no
//! `Transaction` to read through.

use ouroboros::self_referencing;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, Row, Transaction};

/// The savepoint each read runs in while a snapshot is held.
const READ_SAVEPOINT: &str = "rewind_read";

#[self_referencing]
struct Held {
    client: Client,
    #[borrows(mut client)]
    #[not_covariant]
    transaction: Option<Transaction<'this>>,
}

enum State {
    /// Boxed as the held client is (ouroboros keeps it on the heap, where it cannot move).
    Idle(Box<Client>),
    Held(Held),
    /// Only between taking one state and putting the next back; a connection left here
    /// (a panic mid-swap) refuses every read.
    Swapping,
}

pub struct Connection {
    state: State,
}

impl Connection {
    pub fn new(client: Client) -> Connection {
        Connection {
            state: State::Idle(Box::new(client)),
        }
    }

    /// Starts the transaction every read from now on runs inside; holding twice is a no-op.
    pub fn hold(&mut self) -> Result<(), postgres::Error> {
        let client = match std::mem::replace(&mut self.state, State::Swapping) {
            State::Idle(client) => client,
            other => {
                self.state = other;
                return Ok(());
            }
        };
        let held = Held::try_new_or_recover(*client, |client| begin(client).map(Some));
        match held {
            Ok(held) => {
                self.state = State::Held(held);
                Ok(())
            }
            Err((err, heads)) => {
                self.state = State::Idle(Box::new(heads.client));
                Err(err)
            }
        }
    }

    /// Ends the held transaction (it changed nothing: committing and rolling back are the
    /// same); reads are their own transactions again. Releasing nothing is a no-op.
    pub fn release(&mut self) -> Result<(), postgres::Error> {
        let mut held = match std::mem::replace(&mut self.state, State::Swapping) {
            State::Held(held) => held,
            other => {
                self.state = other;
                return Ok(());
            }
        };
        let ended = held.with_transaction_mut(|transaction| match transaction.take() {
            Some(transaction) => transaction.commit(),
            None => Ok(()),
        });
        self.state = State::Idle(Box::new(held.into_heads().client));
        ended
    }

    /// Runs `body` in a read-only transaction on one snapshot: a savepoint of the held
    /// transaction, or a transaction of its own. `fail` turns a failure to start or end
    /// one into the caller's error.
    pub fn read<T, E>(
        &mut self,
        fail: impl Fn(postgres::Error) -> E,
        body: impl FnOnce(&mut Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        match &mut self.state {
            State::Idle(client) => {
                let mut transaction = begin(client).map_err(&fail)?;
                let result = body(&mut transaction)?;
                transaction.commit().map_err(fail)?;
                Ok(result)
            }
            State::Held(held) => held.with_transaction_mut(|transaction| {
                // Only `release` takes the transaction, and it leaves the state idle.
                let Some(transaction) = transaction else {
                    unreachable!("a held snapshot always has its transaction");
                };
                let mut savepoint = transaction.savepoint(READ_SAVEPOINT).map_err(&fail)?;
                let result = body(&mut savepoint)?;
                savepoint.commit().map_err(fail)?;
                Ok(result)
            }),
            State::Swapping => panic!("the PostgreSQL connection was lost mid-swap"),
        }
    }
}

impl Connection {
    /// One statement's rows, straight in the held transaction or on its own: for the
    /// catalog reads of opening, where a failure ends the open anyway, so they need no
    /// savepoint (nor, unheld, a transaction of their own) and cost one round trip each.
    pub fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        match &mut self.state {
            State::Idle(client) => client.query(sql, params),
            State::Held(held) => held.with_transaction_mut(|transaction| match transaction {
                Some(transaction) => transaction.query(sql, params),
                None => unreachable!("a held snapshot always has its transaction"),
            }),
            State::Swapping => panic!("the PostgreSQL connection was lost mid-swap"),
        }
    }
}

fn begin(client: &mut Client) -> Result<Transaction<'_>, postgres::Error> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
}
