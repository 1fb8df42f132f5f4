//go:build goexperiment.jsonv2

package http

import (
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// BenchmarkDecodeScalarsJSONv2 is BenchmarkDecodeScalarsEncodingJSON with
// encoding/json/v2 (GOEXPERIMENT=jsonv2 go test -bench DecodeScalars ./http),
// to see whether the standard library's next decoder makes the hand-written
// one unnecessary; see decodeScalars for the figures.
func BenchmarkDecodeScalarsJSONv2(b *testing.B) {
	body := scalarBody(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	type point struct {
		Step  jsontext.Value `json:"step"`
		Mode  string         `json:"mode"`
		Name  string         `json:"name"`
		Type  string         `json:"type"`
		Value jsontext.Value `json:"value"`
		TS    jsontext.Value `json:"ts"`
	}
	for b.Loop() {
		var top struct {
			Scalars []point `json:"scalars"`
		}
		// v2 refuses duplicate keys itself, as decodeScalars does.
		if err := jsonv2.Unmarshal(body, &top); err != nil {
			b.Fatal(err)
		}
		out := make([]expt.Scalar, len(top.Scalars))
		for i, p := range top.Scalars {
			step, ferr := api.ParseStep(p.Step)
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
