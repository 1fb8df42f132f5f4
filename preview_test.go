package expt_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// TestPreviewCases runs the cases the UI's previews run too
// (ui/src/lib/previews.test.ts), so a page of server previews reads the
// same as rollouts previewed in the browser.
func TestPreviewCases(t *testing.T) {
	b, err := os.ReadFile("api/testdata/previews.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name     string          `json:"name"`
		Tags     []string        `json:"tags"`
		Messages json.RawMessage `json:"messages"`
		Want     struct {
			Answer   string `json:"answer"`
			Boxed    string `json:"boxed"`
			Chars    int64  `json:"chars"`
			Messages int    `json:"messages"`
		} `json:"want"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, c := range cases {
		msgs, err := storekit.DecodeMessages(string(c.Messages))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		tags := c.Tags
		if tags == nil {
			tags = expt.DefaultReasoningTags
		}
		got := expt.RolloutPreview(&expt.Rollout{Messages: msgs}, tags)
		want := expt.Preview{Answer: c.Want.Answer, Boxed: c.Want.Boxed, Chars: c.Want.Chars, Messages: c.Want.Messages}
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.Name, got, want)
		}
		if got.Chars != expt.ResponseLength(msgs) {
			t.Errorf("%s: chars %d, ResponseLength %d", c.Name, got.Chars, expt.ResponseLength(msgs))
		}
	}
}
