package storekit

import "strings"

// SearchTerm is one whitespace-separated word of a user's search.
type SearchTerm struct {
	Text   string
	Prefix bool // it ended in *: match words that start with it
}

// SearchTerms splits a user's search string the same way for every store:
// terms are ANDed, a trailing * keeps its prefix meaning, and terms of only
// punctuation are dropped (the tokenizers drop them, and an empty phrase
// would match nothing). ok is false when nothing searchable remains.
func SearchTerms(s string) (terms []SearchTerm, ok bool) {
	for _, t := range strings.Fields(s) {
		prefix := strings.HasSuffix(t, "*")
		t = strings.TrimRight(t, "*")
		if !hasWordChar(t) {
			continue
		}
		terms = append(terms, SearchTerm{t, prefix})
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
