package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

func TestDecodeScalars(t *testing.T) {
	got, err := decodeScalars([]byte(` { "scalars" : [
		{"step": 0, "mode": "train", "name": "loss", "value": 1.5, "ts": 1700000000.25},
		{"step": 9007199254740992, "mode": "eval", "type": "acc", "value": -2e-3},
		{"value": "NaN", "name": "a\u00e9\n", "mode": "train", "step": 3, "ts": null},
		{"step": 4, "mode": "train", "name": "x", "type": "ignored", "value": "Infinity"},
		{"step": 5, "mode": "train", "name": "x", "value": "-Infinity"}
	] } `))
	if err != nil {
		t.Fatal(err)
	}
	want := []expt.Scalar{
		{Step: 0, Mode: "train", Name: "loss", Value: 1.5, TS: 1700000000.25},
		{Step: 1 << 53, Mode: "eval", Name: "acc", Value: -0.002},
		{Step: 3, Mode: "train", Name: "aé\n", Value: math.NaN()},
		{Step: 4, Mode: "train", Name: "x", Value: math.Inf(1)},
		{Step: 5, Mode: "train", Name: "x", Value: math.Inf(-1)},
	}
	if !sameScalars(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	empty, err := decodeScalars([]byte(`{"scalars":[]}`))
	if err != nil || len(empty) != 0 {
		t.Fatalf("empty batch: %v, %v", empty, err)
	}
}

func sameScalars(a, b []expt.Scalar) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Step != y.Step || x.Mode != y.Mode || x.Name != y.Name || x.TS != y.TS ||
			math.Float64bits(x.Value) != math.Float64bits(y.Value) && !(math.IsNaN(x.Value) && math.IsNaN(y.Value)) {
			return false
		}
	}
	return true
}

func TestDecodeScalarsErrors(t *testing.T) {
	ok := `{"step": 1, "mode": "train", "name": "loss", "value": 1}`
	batch := func(bad string) string { return `{"scalars":[` + ok + `,` + ok + `,` + ok + `,` + bad + `]}` }
	for _, tc := range []struct {
		body, want string
	}{
		{``, "empty"},
		{`[]`, "JSON object"},
		{`{"scalars":[` + ok + `]`, "unexpected end"},
		{`{"scalars":[` + ok + `]} x`, "after the top-level value"},
		{`{"scalar":[]}`, `unknown field "scalar"`},
		{`{}`, "scalars is required"},
		{`{"scalars":{}}`, "scalars: must be an array"},
		{`{"scalars":null}`, "scalars: must be an array"},
		{batch(`{"step": 1, "mode": "train", "name": "loss", "value": true}`), "scalars[3].value: booleans are not numbers"},
		{batch(`{"step": 1, "mode": "train", "name": "loss", "value": "1.5"}`), "scalars[3].value: must be a number"},
		{batch(`{"step": 1, "mode": "train", "name": "loss", "value": "nan"}`), "scalars[3].value: must be a number"},
		{batch(`{"step": 1, "mode": "train", "name": "loss", "value": null}`), "scalars[3].value: must be a number"},
		{batch(`{"step": 1, "mode": "train", "name": "loss", "value": [1]}`), "scalars[3].value: must be a number"},
		{batch(`{"step": 1, "mode": "train", "name": "loss", "value": 1e999}`), "scalars[3].value: number is out of range"},
		{batch(`{"step": 1, "mode": "train", "name": "loss"}`), "scalars[3].value is required"},
		{batch(`{"step": -1, "mode": "train", "name": "loss", "value": 1}`), "scalars[3].step: must not be negative"},
		{batch(`{"step": 1.5, "mode": "train", "name": "loss", "value": 1}`), "scalars[3].step: must be an integer"},
		{batch(`{"step": 1e3, "mode": "train", "name": "loss", "value": 1}`), "scalars[3].step: must be an integer"},
		{batch(`{"step": "1", "mode": "train", "name": "loss", "value": 1}`), "scalars[3].step: must be an integer"},
		{batch(`{"step": true, "mode": "train", "name": "loss", "value": 1}`), "scalars[3].step: booleans are not numbers"},
		{batch(`{"step": 9007199254740993, "mode": "train", "name": "loss", "value": 1}`), "scalars[3].step: must be at most 2^53"},
		{batch(`{"step": 99999999999999999999, "mode": "train", "name": "loss", "value": 1}`), "scalars[3].step: must be at most 2^53"},
		{batch(`{"mode": "train", "name": "loss", "value": 1}`), "scalars[3].step is required"},
		{batch(`{"step": 1, "name": "loss", "value": 1}`), "scalars[3].mode is required"},
		{batch(`{"step": 1, "mode": "", "name": "loss", "value": 1}`), "scalars[3].mode: must not be empty"},
		{batch(`{"step": 1, "mode": "train", "value": 1}`), "scalars[3].name is required"},
		{batch(`{"step": 1, "mode": "train", "name": "", "value": 1}`), "scalars[3].name: must not be empty"},
		{batch(`{"step": 1, "mode": "train", "type": "", "value": 1}`), "scalars[3].name: must not be empty"},
		{batch(`{"step": 1, "mode": "train", "name": 5, "value": 1}`), "scalars[3].name: must be a string"},
		{batch(`{"step": 1, "mode": "train", "name": "` + strings.Repeat("n", 257) + `", "value": 1}`), "scalars[3].name: longer than 256 bytes"},
		{batch(`{"step": 1, "mode": "` + strings.Repeat("m", 65) + `", "name": "x", "value": 1}`), "scalars[3].mode: longer than 64 bytes"},
		{batch(`{"step": 1, "mode": "train", "name": "x", "value": 1, "extra": 1}`), `scalars[3]: unknown field "extra"`},
		{batch(`{"step": 1, "mode": "train", "name": "x", "value": 1, "ts": "now"}`), "scalars[3].ts"},
		{batch(`7`), "scalars[3]: must be an object"},
		{batch(`{"step": 1, "step": 2, "mode": "train", "name": "x", "value": 1}`), `scalars[3]: repeated key "step"`},
		{`{"scalars":[],"scalars":[]}`, `body: repeated key "scalars"`},
		{batch(`{"step": 01, "mode": "train", "name": "x", "value": 1}`), "malformed JSON"},
		{batch(`{"step": 1, "mode": "tr\ain", "name": "x", "value": 1}`), "malformed JSON"},
		{batch(`{"step": 1, "mode": "train", "name": "x", "value": 1,}`), "malformed JSON"},
		{batch(`{"step": 1 "mode": "train"}`), "malformed JSON"},
		{batch("{\"step\": 1, \"mode\": \"tr\x01\", \"name\": \"x\", \"value\": 1}"), "malformed JSON"},
		{batch(`{"step": 1, "mode": "train", "name": "x", "value": tru}`), "malformed JSON"},
		{batch(`{"step": 1, "mode": "train", "name": "x", "value": -}`), "malformed JSON"},
	} {
		_, err := checkedScalars([]byte(tc.body))
		if err == nil {
			t.Errorf("%.80s: accepted, want error %q", tc.body, tc.want)
			continue
		}
		if expt.ErrorCode(err) != expt.EINVALID || !strings.Contains(expt.ErrorMessage(err), tc.want) {
			t.Errorf("%.80s:\n error %v\n want %q", tc.body, err, tc.want)
		}
	}
}

// referenceDecodeScalars is the slow, obviously-right decoder the scanner
// must agree with: encoding/json decides what is JSON, then the same rules
// as decodeScalars and expt.CheckScalars apply to the generic tree.
func referenceDecodeScalars(body []byte) ([]expt.Scalar, bool) {
	if dupKeys(body) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, false
	}
	// Only white space may follow the value (Token and More let a stray
	// "}" through: the fuzzer found `{"scalars":[]}}`).
	if len(bytes.TrimSpace(body[dec.InputOffset():])) != 0 {
		return nil, false
	}
	obj, ok := top.(map[string]any)
	if !ok || len(obj) != 1 {
		return nil, false
	}
	arr, ok := obj["scalars"].([]any)
	if !ok {
		return nil, false
	}
	out := []expt.Scalar{}
	for _, el := range arr {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, false
		}
		var sc expt.Scalar
		for k, v := range m {
			switch k {
			case "step":
				n, ok := v.(json.Number)
				if !ok {
					return nil, false
				}
				step, ferr := api.ParseStep([]byte(n))
				if ferr != nil {
					return nil, false
				}
				sc.Step = step
			case "mode", "name", "type":
				s, ok := v.(string)
				lim := expt.MaxNameBytes
				if k == "mode" {
					lim = expt.MaxModeBytes
				}
				if !ok || s == "" || len(s) > lim {
					return nil, false
				}
			case "value":
				switch v := v.(type) {
				case json.Number:
					f, err := v.Float64()
					if err != nil {
						return nil, false
					}
					sc.Value = f
				case string:
					f, ok := api.NonFinite(v)
					if !ok {
						return nil, false
					}
					sc.Value = f
				default:
					return nil, false
				}
			case "ts":
				switch v := v.(type) {
				case nil:
				case json.Number:
					f, err := v.Float64()
					if err != nil {
						return nil, false
					}
					sc.TS = f
				default:
					return nil, false
				}
			default:
				return nil, false
			}
		}
		if _, ok := m["step"]; !ok {
			return nil, false
		}
		if _, ok := m["value"]; !ok {
			return nil, false
		}
		mode, ok := m["mode"].(string)
		if !ok {
			return nil, false
		}
		sc.Mode = mode
		if name, ok := m["name"].(string); ok {
			sc.Name = name
		} else if typ, ok := m["type"].(string); ok {
			sc.Name = typ
		} else {
			return nil, false
		}
		out = append(out, sc)
	}
	return out, true
}

// dupKeys reports whether any object in body repeats a key, which
// encoding/json would silently resolve by keeping the last.
func dupKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // next token of an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false // syntax errors are the other decoder's business
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return false
		}
		if t := stack[len(stack)-1]; t.obj {
			t.key = true
		}
	}
}

func FuzzDecodeScalars(f *testing.F) {
	for _, s := range []string{
		`{"scalars":[{"step":1,"mode":"train","name":"loss","value":1.5}]}`,
		`{"scalars":[{"step":1,"mode":"train","type":"loss","value":"NaN","ts":1.5}]}`,
		`{"scalars":[{"step":1,"mode":"tr\u0061in","name":"l\"o","value":-1e-7,"ts":null}]}`,
		`{"scalars":[]}`, `{"scalars":[{"step":1.0,"mode":"a","name":"b","value":true}]}`,
		`{"scalars":[{"step":1,"mode":"a","name":"b","value":1,"x":{"y":[1,{"z":null}]}}]}`,
		` {"scalars" :[ {"value":"-Infinity" , "name":"n","mode":"m","step":0} ] } `,
		`{"scalars":[{"step":1,"mode":"a","name":"b","value":1}],"scalars":[]}`,
		`{"scalars":[]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8Valid(body) {
			return // readBody rejects these before decoding
		}
		got, err := checkedScalars(body)
		want, ok := referenceDecodeScalars(body)
		if (err == nil) != ok {
			t.Fatalf("decodeScalars(%q) error = %v, reference accepts = %v", body, err, ok)
		}
		if ok && !sameScalars(got, want) {
			t.Fatalf("decodeScalars(%q) = %+v, reference %+v", body, got, want)
		}
		if err != nil && expt.ErrorCode(err) != expt.EINVALID && expt.ErrorCode(err) != expt.ETOOLARGE {
			t.Fatalf("decodeScalars(%q): error code %q", body, expt.ErrorCode(err))
		}
	})
}

// scalarBody builds a batch the way the SDK sends one.
func scalarBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"scalars":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		name := []string{"loss", "reward/mean", "kl", "lr"}[i%4]
		fmt.Fprintf(&b, `{"step":%d,"mode":"train","name":%q,"value":%v,"ts":%.3f}`, 1000+i/4, name, 0.123456789*float64(i+1), 1732851234.125+float64(i)/1000)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkDecodeScalars(b *testing.B) {
	body := scalarBody(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		out, err := decodeScalars(body)
		if err != nil || len(out) != 1000 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/point")
}

// BenchmarkDecodeScalarsEncodingJSON is what decodeScalars replaces: the
// same batch through encoding/json into a struct per point, each value
// then parsed as decodeScalars parses it (NaN and the infinities travel as
// strings, so a plain float64 field cannot take them). It is the reason the
// hand-written scanner exists; see decodeScalars for the figures.
func BenchmarkDecodeScalarsEncodingJSON(b *testing.B) {
	body := scalarBody(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	type point struct {
		Step  json.Number     `json:"step"`
		Mode  string          `json:"mode"`
		Name  string          `json:"name"`
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
		TS    json.RawMessage `json:"ts"`
	}
	for b.Loop() {
		var top struct {
			Scalars []point `json:"scalars"`
		}
		if err := json.Unmarshal(body, &top); err != nil {
			b.Fatal(err)
		}
		out := make([]expt.Scalar, len(top.Scalars))
		for i, p := range top.Scalars {
			step, ferr := api.ParseStep([]byte(p.Step))
			if ferr != nil {
				b.Fatal(ferr.Msg)
			}
			v, ferr := api.ParseNum(p.Value)
			if ferr != nil {
				b.Fatal(ferr.Msg)
			}
			ts, _ := api.ParseNum(p.TS)
			out[i] = expt.Scalar{Step: step, Mode: p.Mode, Name: p.Name, Value: v, TS: ts}
		}
		if len(out) != 1000 {
			b.Fatal(len(out))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/point")
}
