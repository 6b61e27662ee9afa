//! SQLite's inline reader of the configuration generation ([`crate::Store::config_generation`]),
//! which every API call and run reads first: one small connection of its own, read on the
//! caller's thread.
//!
//! Why inline: the pool's SQLite driver hands each statement to its connection's thread and the
//! row back, two thread switches that cost far more than this one-row primary-key read (a few
//! microseconds in WAL mode, where readers never wait for the writer). The connection is only
//! used under its lock and only for this read (`query_only`).

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::Connection;

use crate::dialect::sqlite_side_connection;
use crate::error::Result;

/// The read itself.
const GENERATION_SQL: &str = "SELECT value FROM config_generation WHERE id = 1";

/// A connection reading the configuration generation.
pub(crate) struct GenerationReader {
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for GenerationReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GenerationReader")
    }
}

impl GenerationReader {
    /// Opens a read connection to the database file at `path` (created and migrated by the pool).
    pub(crate) fn open(path: &Path) -> Result<GenerationReader> {
        let connection = sqlite_side_connection(path)?;
        connection.pragma_update(None, "query_only", "ON")?;
        Ok(GenerationReader { connection: Mutex::new(connection) })
    }

    /// The current generation.
    pub(crate) fn read(&self) -> Result<i64> {
        let connection = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let mut statement = connection.prepare_cached(GENERATION_SQL)?;
        Ok(statement.query_row([], |row| row.get(0))?)
    }
}
