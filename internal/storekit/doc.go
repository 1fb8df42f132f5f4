// Package storekit is the plain Go that every store runs around its own SQL:
// a rollout batch's step and group statistics, the stored form of messages,
// search terms, bucket and reward folding, per-experiment id caches, WHERE
// clauses with either placeholder style, and the scanning of rows into the
// domain types. Each store keeps only its SQL and its driver code, so that a
// rule written here cannot drift apart between them.
package storekit
