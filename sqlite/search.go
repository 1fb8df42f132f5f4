package sqlite

import (
	"strings"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// ftsQuery turns a user's search string into an FTS5 query that cannot be
// a syntax error: every term (storekit.SearchTerms) becomes a quoted string
// (terms are ANDed); a trailing * keeps its prefix meaning. ok is false when
// nothing searchable remains.
func ftsQuery(s string) (q string, ok bool) {
	terms, ok := storekit.SearchTerms(s)
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = `"` + strings.ReplaceAll(t.Text, `"`, `""`) + `"`
		if t.Prefix {
			parts[i] += "*"
		}
	}
	return strings.Join(parts, " "), ok
}

// ftsError maps an FTS5 failure on a user query to EINVALID: the query
// was the caller's, so it is a 400, never a 500.
func ftsError(err error) error {
	if err != nil && strings.Contains(err.Error(), "fts5") {
		return expt.Errorf(expt.EINVALID, "search query could not be parsed")
	}
	return err
}
