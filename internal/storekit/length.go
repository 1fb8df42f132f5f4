package storekit

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/expt-logger/expt"
)

// ResponseLength is the length of a rollout's response: its assistant
// messages' text, in UTF-16 code units like the browser's String.length,
// so that the distribution agrees with the rollout table's length column.
// Array content counts its text parts, joined by newlines as shown.
func ResponseLength(msgs []expt.Message) int64 {
	var n int64
	for _, m := range msgs {
		if m.Role != "assistant" {
			continue
		}
		if m.Content != "" {
			n += utf16Len(m.Content)
			continue
		}
		var parts struct {
			Content []struct {
				Text *string `json:"text"`
			} `json:"content"`
		}
		if json.Unmarshal(m.Raw, &parts) != nil {
			continue // content neither a string nor a list of parts: no text
		}
		k := 0
		for _, p := range parts.Content {
			if p.Text == nil || *p.Text == "" {
				continue
			}
			if k > 0 {
				n++ // the joining newline
			}
			n += utf16Len(*p.Text)
			k++
		}
	}
	return n
}

func utf16Len(s string) int64 {
	n := int64(0)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n++
		if r > 0xFFFF {
			n++ // a surrogate pair
		}
		i += size
	}
	return n
}
