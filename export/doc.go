// Package export streams an experiment's scalars and rollouts as JSON
// Lines, CSV or Parquet, page by page from the store, so an export of any
// size holds a few megabytes in memory: points are read by key (never by
// OFFSET), and Parquet row groups are flushed every few megabytes.
//
// Parquet is written with github.com/parquet-go/parquet-go (zstd pages,
// dictionary-encoded name columns); JSON Lines and CSV are the standard
// library's. NaN and ±Infinity are kept in every format: Parquet as the
// IEEE doubles themselves, JSON Lines as the wire's "NaN", "Infinity" and
// "-Infinity" strings, CSV as NaN, inf and -inf, which pandas, polars and
// DuckDB read as those numbers. An absent value (a wide table's metric not
// logged at that step, a reward a rollout lacks) is null, never NaN.
package export
