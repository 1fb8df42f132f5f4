package expt

import "github.com/google/uuid"

// NewUUID returns a new id for an experiment or an API key: a version 7
// UUID, time-ordered, so that ids made by the server sort by creation in
// any index.
func NewUUID() string { return uuid.Must(uuid.NewV7()).String() }
