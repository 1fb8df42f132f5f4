package sqlite

import (
	"strings"

	"github.com/expt-logger/expt"
)

// ftsQuery turns a user's search string into an FTS5 query that cannot be
// a syntax error: every whitespace-separated term becomes a quoted string
// (terms are ANDed); a trailing * keeps its prefix meaning. ok is false when
// nothing searchable remains.
func ftsQuery(s string) (q string, ok bool) {
	var terms []string
	for _, t := range strings.Fields(s) {
		prefix := strings.HasSuffix(t, "*")
		t = strings.TrimRight(t, "*")
		if !hasWordChar(t) {
			// Only punctuation: the tokenizer drops it, and an empty
			// phrase would match nothing.
			continue
		}
		term := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if prefix {
			term += "*"
		}
		terms = append(terms, term)
	}
	return strings.Join(terms, " "), len(terms) > 0
}

func hasWordChar(s string) bool {
	for _, r := range s {
		if r >= 0x80 || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' {
			return true
		}
	}
	return false
}

// ftsError maps an FTS5 failure on a user query to EINVALID: the query
// was the caller's, so it is a 400, never a 500.
func ftsError(err error) error {
	if err != nil && strings.Contains(err.Error(), "fts5") {
		return expt.Errorf(expt.EINVALID, "search query could not be parsed")
	}
	return err
}
