package postgres

import (
	"strings"
)

// The full-text index uses the 'simple' configuration: lower-casing and no
// stemming or stop words, the closest to SQLite FTS5's unicode61 tokenizer,
// so a search finds the same rollouts on both stores.

// searchTerm is one whitespace-separated word of a user's search.
type searchTerm struct {
	text   string
	prefix bool // it ended in *: match words that start with it
}

// searchTerms splits a user's search string the way the sqlite store does:
// terms are ANDed, a trailing * keeps its prefix meaning, terms of only
// punctuation are dropped. ok is false when nothing searchable remains.
func searchTerms(s string) (terms []searchTerm, ok bool) {
	for _, t := range strings.Fields(s) {
		prefix := strings.HasSuffix(t, "*")
		t = strings.TrimRight(t, "*")
		if !hasWordChar(t) {
			continue
		}
		terms = append(terms, searchTerm{t, prefix})
	}
	return terms, len(terms) > 0
}

func hasWordChar(s string) bool {
	for _, r := range s {
		if r >= 0x80 || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' {
			return true
		}
	}
	return false
}

// tsquery returns an SQL tsquery expression for terms, binding each term
// with bind. Every term goes through phraseto_tsquery, which tokenizes it
// exactly as to_tsvector tokenized the text and cannot fail on any input
// (operators and quotes in a term are just characters); a prefix term
// marks its last word with :*.
func tsquery(terms []searchTerm, bind func(any) string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		q := `phraseto_tsquery('simple', ` + bind(t.text) + `)`
		if t.prefix {
			// A term that tokenizes to nothing becomes NULL: no match, as in SQLite.
			q = `to_tsquery('simple', nullif(` + q + `::text, '') || ':*')`
		}
		parts[i] = q
	}
	return "(" + strings.Join(parts, " && ") + ")"
}
