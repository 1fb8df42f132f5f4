package expt

import "strings"

// MessageTokens is one message's tokens as the model produced them: each
// token's text and named per-token values (logprob, entropy, advantage…),
// which the chat view colours the text by. Tokens are kept apart from the
// rollout's messages and its search index, and values as float32.
type MessageTokens struct {
	Message int // index into the rollout's messages
	Text    []string
	Values  []TokenValues
}

// TokenValues is one named value of every token of a message.
type TokenValues struct {
	Name   string
	Values []float64 // NaN where a token has none
}

// CountTokens is how many tokens ts holds.
func CountTokens(ts []MessageTokens) int64 {
	var n int64
	for _, mt := range ts {
		n += int64(len(mt.Text))
	}
	return n
}

// Token limits per rollout.
const (
	MaxTokensPerRollout = 200_000
	MaxTokenSeries      = 16
)

func checkTokens(r *Rollout, i int) error {
	total := 0
	seenMsg := map[int]bool{}
	for k, mt := range r.Tokens {
		if mt.Message < 0 || mt.Message >= len(r.Messages) {
			return Errorf(EINVALID, "rollouts[%d].tokens[%d].message: %d is not one of the %d messages", i, k, mt.Message, len(r.Messages))
		}
		if seenMsg[mt.Message] {
			return Errorf(EINVALID, "rollouts[%d].tokens[%d].message: message %d has tokens twice", i, k, mt.Message)
		}
		seenMsg[mt.Message] = true
		if total += len(mt.Text); total > MaxTokensPerRollout {
			return Errorf(EINVALID, "rollouts[%d].tokens: more than %d tokens", i, MaxTokensPerRollout)
		}
		if len(mt.Values) > MaxTokenSeries {
			return Errorf(EINVALID, "rollouts[%d].tokens[%d].values: more than %d named values", i, k, MaxTokenSeries)
		}
		seen := map[string]bool{}
		for _, v := range mt.Values {
			switch {
			case v.Name == "" || len(v.Name) > MaxNameBytes || strings.ContainsRune(v.Name, 0):
				return Errorf(EINVALID, "rollouts[%d].tokens[%d].values: a name must be 1 to %d bytes", i, k, MaxNameBytes)
			case v.Name == "text":
				return Errorf(EINVALID, "rollouts[%d].tokens[%d].values: %q is the tokens' own key", i, k, v.Name)
			case seen[v.Name]:
				return Errorf(EINVALID, "rollouts[%d].tokens[%d].values: %q appears twice", i, k, v.Name)
			case len(v.Values) != len(mt.Text):
				return Errorf(EINVALID, "rollouts[%d].tokens[%d].values.%s: %d values for %d tokens", i, k, v.Name, len(v.Values), len(mt.Text))
			}
			seen[v.Name] = true
		}
	}
	return nil
}
