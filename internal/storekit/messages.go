package storekit

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/expt-logger/expt"
)

// MessagesJSON is the stored form of a checked rollout's messages
// (expt.CheckRollouts, which every store runs first, has checked that each
// raw object is valid JSON): a JSON array of each message's raw object, so
// that extra keys survive byte for byte. A message without raw bytes is
// written as {"role", "content"}.
func MessagesJSON(ms []expt.Message) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		raw := m.Raw
		if len(raw) == 0 {
			// Marshalling a map of strings cannot fail.
			raw, _ = json.Marshal(map[string]string{"role": m.Role, "content": m.Content})
		}
		b.Write(raw)
	}
	b.WriteByte(']')
	return b.String()
}

// BatchMessages is MessagesJSON of every rollout of a checked batch, in order.
func BatchMessages(batch []*expt.Rollout) []string {
	msgs := make([]string, len(batch))
	for i, r := range batch {
		msgs[i] = MessagesJSON(r.Messages)
	}
	return msgs
}

// DecodeMessages splits the stored array back into messages, each keeping
// its raw bytes; role and content are read from it when they are strings.
func DecodeMessages(s string) ([]expt.Message, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raws); err != nil {
		return nil, fmt.Errorf("decode messages: %w", err)
	}
	out := make([]expt.Message, len(raws))
	for i, raw := range raws {
		out[i].Raw = raw
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			continue // not an object: kept raw, nothing to show
		}
		_ = json.Unmarshal(fields["role"], &out[i].Role)
		_ = json.Unmarshal(fields["content"], &out[i].Content)
	}
	return out, nil
}

// SearchBody is the text of a rollout's messages that the full-text index
// covers: each message's content on a line of its own.
func SearchBody(b *strings.Builder, ms []expt.Message) string {
	b.Reset()
	for _, m := range ms {
		b.WriteString(m.Content)
		b.WriteByte('\n')
	}
	return b.String()
}
