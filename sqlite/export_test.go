package sqlite

import "database/sql"

// RawDB is the read-only pool, for tests that inspect the storage form.
func (db *DB) RawDB() *sql.DB { return db.read }

// RawWriteDB is the write connection, for tests that set up an old storage form.
func (db *DB) RawWriteDB() *sql.DB { return db.write }
