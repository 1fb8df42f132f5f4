package storekit

import (
	"math"
	"testing"

	"github.com/expt-logger/expt"
)

func TestTokensEncoding(t *testing.T) {
	in := []expt.MessageTokens{
		{Message: 2, Text: []string{"a", "", "😀"}, Values: []expt.TokenValues{{Name: "logprob", Values: []float64{-0.5, math.NaN(), math.Inf(-1)}}}},
		{Message: 4, Text: []string{"b"}},
	}
	b := EncodeTokens(in)
	// 3 + 1 tokens, one series: a few bytes of framing, 4 bytes a value.
	if len(b) > 40 {
		t.Fatalf("%d bytes", len(b))
	}
	out, err := DecodeTokens(b)
	if err != nil || len(out) != 2 || out[0].Message != 2 || out[0].Text[2] != "😀" || out[1].Text[0] != "b" || len(out[1].Values) != 0 {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
	v := out[0].Values[0].Values
	if v[0] != -0.5 || !math.IsNaN(v[1]) || !math.IsInf(v[2], -1) {
		t.Fatalf("values = %v", v)
	}
	if EncodeTokens(nil) != nil {
		t.Fatal("no tokens encode as something")
	}
	for i := 0; i < len(b); i++ {
		if _, err := DecodeTokens(b[:i]); err == nil {
			t.Fatalf("a record cut at %d decodes", i)
		}
	}
	if _, err := DecodeTokens(append([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}, b[1:]...)); err == nil {
		t.Fatal("a huge count decodes")
	}
}
