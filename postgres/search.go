package postgres

import (
	"strings"

	"github.com/expt-logger/expt/internal/storekit"
)

// The full-text index uses the 'simple' configuration: lower-casing and no
// stemming or stop words, the closest to SQLite FTS5's unicode61 tokenizer,
// so a search finds the same rollouts on both stores; a search string is
// split into terms by storekit.SearchTerms, as in SQLite.

// tsquery returns an SQL tsquery expression for terms, binding each term
// with bind. Every term goes through phraseto_tsquery, which tokenizes it
// exactly as to_tsvector tokenized the text and cannot fail on any input
// (operators and quotes in a term are just characters); a prefix term
// marks its last word with :*.
func tsquery(terms []storekit.SearchTerm, bind func(any) string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		q := `phraseto_tsquery('simple', ` + bind(t.Text) + `)`
		if t.Prefix {
			// A term that tokenizes to nothing becomes NULL: no match, as in SQLite.
			q = `to_tsquery('simple', nullif(` + q + `::text, '') || ':*')`
		}
		parts[i] = q
	}
	return "(" + strings.Join(parts, " && ") + ")"
}
