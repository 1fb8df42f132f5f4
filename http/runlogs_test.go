package http

import (
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

func TestDecodeRunErrors(t *testing.T) {
	got, err := checkedRunErrors([]byte(`{"errors":[
		{"step": 4, "mode": "train", "message": "boom", "error_type": "ValueError", "traceback": "tb"},
		{"message": "no step", "errorType": "Error", "traceback": null, "ts": 1700000000.25}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Step == nil || *got[0].Step != 4 || got[0].Type != "ValueError" || got[0].Traceback != "tb" {
		t.Fatalf("errors[0] = %+v", got)
	}
	if got[1].Step != nil || got[1].Type != "Error" || got[1].TS != 1700000000.25 {
		t.Errorf("errors[1] = %+v", got[1])
	}
	for _, tc := range []struct{ body, want string }{
		{`{}`, "errors is required"},
		{`{"errors":[{"step":1}]}`, "errors[0].message is required"},
		{`{"errors":[{"message":"m","step":-1}]}`, "errors[0].step"},
		{`{"errors":[{"message":"m","step":1.5}]}`, "errors[0].step"},
		{`{"errors":[{"message":true}]}`, "errors[0].message"},
		{`{"errors":[{"message":"m","colour":"red"}]}`, "colour"},
		{`{"errors":["m"]}`, "errors[0]: must be an object"},
		{`{"errors":[{"message":"m","ts":"NaN"}]}`, "errors[0].ts"},
	} {
		_, err := checkedRunErrors([]byte(tc.body))
		if expt.ErrorCode(err) != expt.EINVALID || !strings.Contains(expt.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want invalid naming %q", tc.body, err, tc.want)
		}
	}
}

func TestDecodeEnvLogs(t *testing.T) {
	got, err := checkedEnvLogs([]byte(`{"logs":[{"rolloutId":"r-1","content":"line\nline"},{"rolloutId":"r-2","content":""}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RolloutID != "r-1" || got[0].Content != "line\nline" || got[1].Content != "" {
		t.Fatalf("logs = %+v", got)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"logs":null}`, "logs is required"},
		{`{"logs":[{"content":"c"}]}`, "logs[0].rolloutId is required"},
		{`{"logs":[{"rolloutId":"","content":"c"}]}`, "logs[0].rolloutId: must not be empty"},
		{`{"logs":[{"rolloutId":"r"}]}`, "logs[0].content is required"},
		{`{"logs":[{"rolloutId":1,"content":"c"}]}`, "logs[0].rolloutId"},
		{`{"logs":[{"rolloutId":"` + strings.Repeat("x", expt.MaxNameBytes+1) + `","content":"c"}]}`, "longer than"},
	} {
		_, err := checkedEnvLogs([]byte(tc.body))
		if expt.ErrorCode(err) != expt.EINVALID || !strings.Contains(expt.ErrorMessage(err), tc.want) {
			t.Errorf("%.60s: %v, want invalid naming %q", tc.body, err, tc.want)
		}
	}
}

func TestDecodeRolloutClientID(t *testing.T) {
	got, err := checkedRollouts([]byte(`{"rollouts":[{"id":"sample-1","step":0,"mode":"train","promptText":"p"}]}`))
	if err != nil || got[0].ClientID != "sample-1" {
		t.Fatalf("client id: %+v, %v", got, err)
	}
	_, err = checkedRollouts([]byte(`{"rollouts":[{"id":7,"step":0,"mode":"train"}]}`))
	if expt.ErrorCode(err) != expt.EINVALID || !strings.Contains(expt.ErrorMessage(err), "rollouts[0].id") {
		t.Errorf("numeric client id: %v", err)
	}
}
