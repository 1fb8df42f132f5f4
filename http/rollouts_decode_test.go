package http

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

func TestDecodeRollouts(t *testing.T) {
	body := `{"rollouts":[
		{"step": 3, "mode": "train", "promptText": "What is 2+2?",
		 "messages": [{"role": "user", "content": "What is 2+2?"},
		              {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function"}]},
		              {"role": "tool", "content": "4", "tool_call_id": "c1", "name": "calc"}],
		 "rewards": [{"name": "correct", "value": 1}, {"name": "len", "value": "NaN"}], "ts": 1700000000.5},
		{"step": 4, "mode": "eval", "promptText": {"role": "user", "content": "hi", "name": "u"},
		 "rewards": {"b": 2, "a": "-Infinity"}, "metadata": {"sample": 2,  "stop": "eos", "nested": {"b": [1], "a": null}}}
	]}`
	got, err := checkedRollouts([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d rollouts", len(got))
	}
	r0, r1 := got[0], got[1]
	if r0.Step != 3 || r0.Mode != "train" || r0.Prompt != "What is 2+2?" || r0.PromptRaw != nil || r0.TS != 1700000000.5 {
		t.Errorf("rollout 0 = %+v", r0)
	}
	if len(r0.Messages) != 3 || r0.Messages[1].Role != "assistant" || r0.Messages[1].Content != "" ||
		!strings.Contains(string(r0.Messages[1].Raw), `"tool_calls": [{"id": "c1", "type": "function"}]`) ||
		string(r0.Messages[2].Raw) != `{"role": "tool", "content": "4", "tool_call_id": "c1", "name": "calc"}` {
		t.Errorf("messages = %+v", r0.Messages)
	}
	if len(r0.Rewards) != 2 || r0.Rewards[0] != (expt.Reward{Name: "correct", Value: 1}) || !math.IsNaN(r0.Rewards[1].Value) {
		t.Errorf("rewards = %+v", r0.Rewards)
	}
	if r1.Prompt != "hi" || string(r1.PromptRaw) != `{"role": "user", "content": "hi", "name": "u"}` || len(r1.Messages) != 0 {
		t.Errorf("rollout 1 prompt = %q %s", r1.Prompt, r1.PromptRaw)
	}
	if r0.Metadata != nil || string(r1.Metadata) != `{"sample": 2,  "stop": "eos", "nested": {"b": [1], "a": null}}` {
		t.Errorf("metadata = %q / %q, want none and the object verbatim", r0.Metadata, r1.Metadata)
	}
	// An object of rewards keeps the order it was written in.
	if len(r1.Rewards) != 2 || r1.Rewards[0].Name != "b" || r1.Rewards[1].Name != "a" || !math.IsInf(r1.Rewards[1].Value, -1) {
		t.Errorf("rollout 1 rewards = %+v", r1.Rewards)
	}
}

func TestDecodeRolloutsErrors(t *testing.T) {
	ok := `{"step": 1, "mode": "train", "promptText": "p", "messages": [], "rewards": []}`
	batch := func(bad string) string { return `{"rollouts":[` + ok + `,` + ok + `,` + bad + `]}` }
	var many strings.Builder
	for i := range expt.MaxRewardsPerRollout + 1 {
		fmt.Fprintf(&many, `%s"r%d": 1`, map[bool]string{true: "", false: ","}[i == 0], i)
	}
	for _, tc := range []struct{ body, want string }{
		{`{}`, "rollouts is required"},
		{batch(`{"step": 1, "mode": "t", "rewards": {` + many.String() + `}}`), "rollouts[2].rewards: more than 1000 rewards"},
		{`{"rollouts": 1}`, "rollouts"},
		{`{"rollouts": [], "x": 1}`, `unknown field "x"`},
		{`{"rollouts": [`, "malformed JSON"},
		{batch(`5`), "rollouts[2]: must be an object"},
		{batch(`{"mode": "train"}`), "rollouts[2].step is required"},
		{batch(`{"step": -4, "mode": "train"}`), "rollouts[2].step: must not be negative"},
		{batch(`{"step": 2.5, "mode": "train"}`), "rollouts[2].step: must be an integer"},
		{batch(`{"step": 1}`), "rollouts[2].mode is required"},
		{batch(`{"step": 1, "mode": ""}`), "rollouts[2].mode: must not be empty"},
		{batch(`{"step": 1, "mode": 3}`), "rollouts[2].mode: must be a string"},
		{batch(`{"step": 1, "mode": "t", "extra": 1}`), `rollouts[2]: unknown field "extra"`},
		{batch(`{"step": 1, "mode": "t", "promptText": 5}`), "rollouts[2].promptText: must be a string or a message object"},
		{batch(`{"step": 1, "mode": "t", "promptText": {"content": "x"}}`), "rollouts[2].promptText.role is required"},
		{batch(`{"step": 1, "mode": "t", "messages": {}}`), "rollouts[2].messages: must be an array"},
		{batch(`{"step": 1, "mode": "t", "messages": ["hi"]}`), "rollouts[2].messages[0]: must be an object"},
		{batch(`{"step": 1, "mode": "t", "messages": [{"role": 1, "content": "x"}]}`), "rollouts[2].messages[0].role: must be a string"},
		{batch(`{"step": 1, "mode": "t", "messages": [{"role": "user", "content": 1}]}`), "rollouts[2].messages[0].content: must be a string"},
		{batch(`{"step": 1, "mode": "t", "messages": [{"role": "user", "content": null}]}`), "null only with tool_calls"},
		{batch(`{"step": 1, "mode": "t", "messages": [{"role": "user"}]}`), "rollouts[2].messages[0].content"},
		{batch(`{"step": 1, "mode": "t", "rewards": 3}`), "rollouts[2].rewards: must be a list"},
		{batch(`{"step": 1, "mode": "t", "rewards": [{"name": "a", "value": true}]}`), "rollouts[2].rewards[0].value: booleans are not numbers"},
		{batch(`{"step": 1, "mode": "t", "rewards": [{"name": "a", "value": "high"}]}`), "rollouts[2].rewards[0].value: must be a number"},
		{batch(`{"step": 1, "mode": "t", "rewards": [{"name": "a"}]}`), "rollouts[2].rewards[0].value is required"},
		{batch(`{"step": 1, "mode": "t", "rewards": [{"value": 1}]}`), "rollouts[2].rewards[0].name is required"},
		{batch(`{"step": 1, "mode": "t", "rewards": [{"name": "a", "value": 1, "w": 2}]}`), `rollouts[2].rewards[0]: unknown field "w"`},
		{batch(`{"step": 1, "mode": "t", "rewards": {"a": false}}`), "rollouts[2].rewards.a: booleans are not numbers"},
		{batch(`{"step": 1, "mode": "t", "rewards": {"a": 1, "a": 2}}`), `rollouts[2].rewards: repeated key "a"`},
		{batch(`{"step": 1, "mode": "t", "rewards": {"": 1}}`), "must not be empty"},
		{batch(`{"step": 1, "mode": "t", "ts": "now"}`), "rollouts[2].ts"},
		{batch(`{"step": 1, "mode": "t", "metadata": [1]}`), "rollouts[2].metadata: must be an object"},
		{batch(`{"step": 1, "mode": "t", "metadata": "x"}`), "rollouts[2].metadata: must be an object"},
		{batch(`{"step": 1, "mode": "t", "metadata": {"a": "` + strings.Repeat("x", expt.MaxMetadataBytes) + `"}}`), "rollouts[2].metadata: longer than"},
	} {
		_, err := checkedRollouts([]byte(tc.body))
		if err == nil {
			t.Errorf("%.90s: accepted, want %q", tc.body, tc.want)
			continue
		}
		if expt.ErrorCode(err) != expt.EINVALID || !strings.Contains(expt.ErrorMessage(err), tc.want) {
			t.Errorf("%.90s:\n error %v\n want  %q", tc.body, err, tc.want)
		}
	}
}
