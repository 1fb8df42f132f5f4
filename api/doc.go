// Package api holds the wire types of the HTTP contract, openapi.yaml in
// this directory: what the server (package http) sends and accepts, and
// what a Go client decodes. Field names and required fields are held to
// the document by TestSchemasMatchTypes; the server's routes by the http
// package's route test.
//
// Numbers that may be NaN or infinite travel as Num. The server decodes
// the write batches (scalars, rollouts, run logs) with its own decoders for
// speed; ScalarIn, RolloutIn and the other *In types are their shape for a
// client to encode.
package api
