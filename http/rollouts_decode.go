package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// rolloutIn is one rollout as a client sends it; the parts that may take
// several shapes stay raw and are checked by hand.
type rolloutIn struct {
	ID         *string           `json:"id"` // the client's own id for the rollout, as the published client sends it
	Step       json.RawMessage   `json:"step"`
	Mode       *string           `json:"mode"`
	PromptText json.RawMessage   `json:"promptText"`
	Messages   []json.RawMessage `json:"messages"`
	Rewards    json.RawMessage   `json:"rewards"`
	Tokens     json.RawMessage   `json:"tokens"`
	Metadata   json.RawMessage   `json:"metadata"`
	Group      *string           `json:"group"`
	TS         json.RawMessage   `json:"ts"`
}

// tokensIn is one message's tokens as a client sends them.
type tokensIn struct {
	Message *int            `json:"message"`
	Text    *[]string       `json:"text"`
	Values  json.RawMessage `json:"values"`
}

// messageKeys are the keys of a message the server reads, matched exactly.
var messageKeys = []string{"role", "content", "tool_calls"}

// messageIn holds the keys of a message we read; every other key stays in
// the raw object untouched.
type messageIn struct {
	Role      json.RawMessage `json:"role"`
	Content   json.RawMessage `json:"content"`
	ToolCalls json.RawMessage `json:"tool_calls"`
}

type rewardIn struct {
	Name  *string         `json:"name"`
	Value json.RawMessage `json:"value"`
}

// decodeRollouts parses and checks a whole batch before anything is
// written, so a bad rollout anywhere rejects the batch.
func decodeRollouts(body []byte) ([]*expt.Rollout, error) {
	// Most batches are valid: decoding them in one pass, rather than each
	// rollout again from its raw bytes, saves a third of the decoding. Any
	// error is found again by the rollout-by-rollout path, whose messages
	// name the rollout.
	if out, ok := decodeRolloutsFast(body); ok {
		return out, nil
	}
	return decodeRolloutsSlow(body)
}

// decodeRolloutsSlow decodes rollout by rollout so that an error names the
// one at fault. The fuzz test holds it and the fast path to the same answers.
func decodeRolloutsSlow(body []byte) ([]*expt.Rollout, error) {
	var top struct {
		Rollouts *[]json.RawMessage `json:"rollouts"`
	}
	if err := unmarshalStrict(body, &top, ""); err != nil {
		return nil, err
	}
	if top.Rollouts == nil {
		return nil, invalid("rollouts is required")
	}
	raws := *top.Rollouts
	if len(raws) > expt.MaxRolloutsPerBatch {
		return nil, expt.Errorf(expt.ETOOLARGE, "rollouts: more than %d in one batch", expt.MaxRolloutsPerBatch)
	}
	out := make([]*expt.Rollout, len(raws))
	for i, raw := range raws {
		ro, err := decodeRollout(raw, fmt.Sprintf("rollouts[%d]", i))
		if err != nil {
			return nil, err
		}
		out[i] = ro
	}
	return out, nil
}

// decodeRolloutsFast decodes a batch with no error; ok is false when there
// is any, or any rollout that is not an object.
func decodeRolloutsFast(body []byte) ([]*expt.Rollout, bool) {
	var top struct {
		Rollouts *[]*rolloutIn `json:"rollouts"`
	}
	if unmarshalStrict(body, &top, "") != nil || top.Rollouts == nil || len(*top.Rollouts) > expt.MaxRolloutsPerBatch {
		return nil, false
	}
	out := make([]*expt.Rollout, len(*top.Rollouts))
	for i, in := range *top.Rollouts {
		if in == nil { // null, not an object
			return nil, false
		}
		ro, err := checkRollout(in, "")
		if err != nil {
			return nil, false
		}
		out[i] = ro
	}
	return out, true
}

func decodeRollout(raw json.RawMessage, path string) (*expt.Rollout, error) {
	if k := firstByte(raw); k != '{' {
		return nil, invalid("%s: must be an object", path)
	}
	var in rolloutIn
	if err := unmarshalStrict(raw, &in, path); err != nil {
		return nil, err
	}
	return checkRollout(&in, path)
}

// checkRollout checks a decoded rollout and builds the stored form.
func checkRollout(in *rolloutIn, path string) (*expt.Rollout, error) {
	ro := &expt.Rollout{}
	if len(in.Step) == 0 {
		return nil, invalid("%s.step is required", path)
	}
	step, ferr := api.ParseStep(in.Step)
	if ferr != nil {
		return nil, invalid("%s.step: %s", path, ferr.Msg)
	}
	ro.Step = step
	if in.Mode == nil {
		return nil, invalid("%s.mode is required", path)
	}
	ro.Mode = *in.Mode
	if in.ID != nil {
		ro.ClientID = *in.ID
	}
	if in.Group != nil {
		ro.Group = *in.Group
	}
	if k := firstByte(in.TS); k != 0 && k != 'n' {
		ts, ferr := api.ParseNum(in.TS)
		if ferr != nil || k == '"' {
			return nil, invalid("%s.ts: must be a number of seconds since the epoch", path)
		}
		ro.TS = ts
	}
	switch firstByte(in.PromptText) {
	case 0, 'n':
	case '"':
		if err := json.Unmarshal(in.PromptText, &ro.Prompt); err != nil {
			return nil, invalid("%s.promptText: %v", path, err)
		}
	case '{':
		m, err := decodeMessage(in.PromptText, path+".promptText")
		if err != nil {
			return nil, err
		}
		ro.Prompt, ro.PromptRaw = m.Content, m.Raw
	default:
		return nil, invalid("%s.promptText: must be a string or a message object", path)
	}
	ro.Messages = make([]expt.Message, 0, len(in.Messages))
	for j, mraw := range in.Messages {
		m, err := decodeMessage(mraw, fmt.Sprintf("%s.messages[%d]", path, j))
		if err != nil {
			return nil, err
		}
		ro.Messages = append(ro.Messages, m)
	}
	rewards, err := decodeRewards(in.Rewards, path+".rewards")
	if err != nil {
		return nil, err
	}
	ro.Rewards = rewards
	if ro.Tokens, err = decodeTokens(in.Tokens, path+".tokens"); err != nil {
		return nil, err
	}
	switch firstByte(in.Metadata) {
	case 0, 'n':
	case '{':
		ro.Metadata = in.Metadata
	default:
		return nil, invalid("%s.metadata: must be an object", path)
	}
	return ro, nil
}

// decodeTokens reads [{"message", "text": [...], "values": {"logprob": [...]}}];
// the counts are checked by expt.CheckRollouts.
func decodeTokens(raw json.RawMessage, path string) ([]expt.MessageTokens, error) {
	switch firstByte(raw) {
	case 0, 'n':
		return nil, nil
	case '[':
	default:
		return nil, invalid("%s: must be a list of {\"message\", \"text\", \"values\"}", path)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, jsonError(err, path)
	}
	out := make([]expt.MessageTokens, 0, len(list))
	for i, item := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if firstByte(item) != '{' {
			return nil, invalid("%s: must be an object {\"message\", \"text\", \"values\"}", p)
		}
		var in tokensIn
		if err := unmarshalStrict(item, &in, p); err != nil {
			return nil, err
		}
		if in.Message == nil {
			return nil, invalid("%s.message is required (the index of the message the tokens are of)", p)
		}
		if in.Text == nil {
			return nil, invalid("%s.text is required (each token's text)", p)
		}
		mt := expt.MessageTokens{Message: *in.Message, Text: *in.Text}
		switch firstByte(in.Values) {
		case 0, 'n':
		case '{':
			err := objectEntries(in.Values, p+".values", func(name string, v json.RawMessage) error {
				vs, err := tokenNumbers(v, p+".values."+name)
				mt.Values = append(mt.Values, expt.TokenValues{Name: name, Values: vs})
				return err
			})
			if err != nil {
				return nil, err
			}
		default:
			return nil, invalid("%s.values: must be an object of named lists of numbers", p)
		}
		out = append(out, mt)
	}
	return out, nil
}

// tokenNumbers reads a list of numbers (null for none): plain JSON numbers
// in one pass, the wire's "NaN" and "Infinity" strings value by value.
func tokenNumbers(raw json.RawMessage, path string) ([]float64, error) {
	if firstByte(raw) != '[' {
		return nil, invalid("%s: must be a list of numbers", path)
	}
	var fast []*float64
	if json.Unmarshal(raw, &fast) == nil {
		out := make([]float64, len(fast))
		for i, f := range fast {
			out[i] = math.NaN()
			if f != nil {
				out[i] = *f
			}
		}
		return out, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, jsonError(err, path)
	}
	out := make([]float64, len(list))
	for i, item := range list {
		if firstByte(item) == 'n' {
			out[i] = math.NaN()
			continue
		}
		f, ferr := api.ParseNum(item)
		if ferr != nil {
			return nil, invalid("%s[%d]: %s", path, i, ferr.Msg)
		}
		out[i] = f
	}
	return out, nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// decodeMessage checks a chat message: an object with a string role and a
// string content, or a null (or absent) content when tool_calls is present.
// The object is kept byte for byte so no key a client logged is lost.
func decodeMessage(raw json.RawMessage, path string) (expt.Message, error) {
	if firstByte(raw) != '{' {
		return expt.Message{}, invalid("%s: must be an object", path)
	}
	var f [3]json.RawMessage
	exactFields(raw, messageKeys, f[:])
	in := messageIn{Role: f[0], Content: f[1], ToolCalls: f[2]}
	var m expt.Message
	if firstByte(in.Role) != '"' {
		if len(in.Role) == 0 {
			return m, invalid("%s.role is required", path)
		}
		return m, invalid("%s.role: must be a string", path)
	}
	if err := json.Unmarshal(in.Role, &m.Role); err != nil {
		return m, invalid("%s.role: %v", path, err)
	}
	switch firstByte(in.Content) {
	case '"':
		if c, ok := plainString(in.Content); ok {
			m.Content = c
		} else if err := json.Unmarshal(in.Content, &m.Content); err != nil {
			return m, invalid("%s.content: %v", path, err)
		}
	case 0, 'n':
		if k := firstByte(in.ToolCalls); k == 0 || k == 'n' {
			return m, invalid("%s.content: must be a string (null only with tool_calls)", path)
		}
	default:
		return m, invalid("%s.content: must be a string (null only with tool_calls)", path)
	}
	m.Raw = bytes.TrimSpace(raw)
	return m, nil
}

// plainString returns the value of a JSON string that json.Unmarshal
// would return unchanged: valid UTF-8 without escapes. raw comes from a
// document already checked to be valid JSON, so it has no control bytes.
func plainString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') >= 0 || bytes.IndexByte(body, '"') >= 0 || !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

// decodeRewards reads [{"name","value"}] or {"<name>": value}, keeping order.
func decodeRewards(raw json.RawMessage, path string) ([]expt.Reward, error) {
	var out []expt.Reward
	switch firstByte(raw) {
	case 0, 'n':
		return nil, nil
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, jsonError(err, path)
		}
		for i, item := range list {
			p := fmt.Sprintf("%s[%d]", path, i)
			if firstByte(item) != '{' {
				return nil, invalid("%s: must be an object {\"name\", \"value\"}", p)
			}
			var in rewardIn
			if err := unmarshalStrict(item, &in, p); err != nil {
				return nil, err
			}
			if in.Name == nil {
				return nil, invalid("%s.name is required", p)
			}
			if len(in.Value) == 0 {
				return nil, invalid("%s.value is required", p)
			}
			v, ferr := api.ParseNum(in.Value)
			if ferr != nil {
				return nil, invalid("%s.value: %s", p, ferr.Msg)
			}
			out = append(out, expt.Reward{Name: *in.Name, Value: v})
		}
	case '{':
		err := objectEntries(raw, path, func(name string, v json.RawMessage) error {
			f, ferr := api.ParseNum(v)
			if ferr != nil {
				return invalid("%s.%s: %s", path, name, ferr.Msg)
			}
			out = append(out, expt.Reward{Name: name, Value: f})
			return nil
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, invalid("%s: must be a list of {\"name\", \"value\"} or an object of name to value", path)
	}
	return out, nil
}

// objectEntries calls fn with each key and raw value of the JSON object raw,
// in the order written (a map would lose it, and a key given twice would
// vanish instead of reaching the checks).
func objectEntries(raw json.RawMessage, path string, fn func(name string, v json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the '{', already seen by the caller
		return jsonError(err, path)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(err, path)
		}
		name := tok.(string) // object keys are always strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil && err != io.EOF {
			return jsonError(err, path)
		}
		if err := fn(name, v); err != nil {
			return err
		}
	}
	return nil
}
