// Package storekit is the plain Go that every store runs around its own SQL:
// a rollout batch's step and group statistics, the stored form of messages,
// search terms, bucket and reward folding, per-experiment id caches, WHERE
// clauses with either placeholder style, migrations, and the scanning of
// rows into the domain types.
//
// Each store adapts its driver to Conn (a few lines: database/sql for
// SQLite, pgx for PostgreSQL) and embeds a Common built from an Engine, the
// handful of places where the engines' SQL differs (collation, full-text
// search, the email index, time encoding). Common then implements the
// methods of expt.Store that are the same on both: users, keys, sessions,
// experiment metadata, groups and the simple reads. Each store keeps only
// what is its own: the write paths, rollups, search and the queries its
// planner needs written its way, so that a rule written here cannot drift
// apart between them.
package storekit
