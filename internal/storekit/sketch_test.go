package storekit

import (
	"math"
	"reflect"
	"testing"
)

func TestSketchAddMergesAndCompacts(t *testing.T) {
	s := &Sketch{}
	s.Add([]float64{1, 0, 1, math.NaN(), math.Inf(1), math.Inf(-1)})
	if !reflect.DeepEqual(s.V, []float64{0, 1}) || !reflect.DeepEqual(s.W, []int64{1, 2}) || s.Inf != 2 || s.Min != 0 || s.Max != 1 {
		t.Fatalf("sketch = %+v", s)
	}
	s.Add([]float64{0.5, 1})
	if !reflect.DeepEqual(s.V, []float64{0, 0.5, 1}) || !reflect.DeepEqual(s.W, []int64{1, 1, 3}) {
		t.Fatalf("merged = %+v", s)
	}
	// 10,000 distinct values compact to at most SketchCap, sums kept.
	big := &Sketch{}
	var vs []float64
	for i := 0; i < 10_000; i++ {
		vs = append(vs, float64(i))
	}
	big.Add(vs)
	if big.Len() > SketchCap || big.Weight() != 10_000 || big.Min != 0 || big.Max != 9999 {
		t.Fatalf("compacted to %d centroids of weight %d, min %v max %v", big.Len(), big.Weight(), big.Min, big.Max)
	}
	var sum float64
	for i := range big.V {
		sum += big.V[i] * float64(big.W[i])
		if i > 0 && big.V[i] <= big.V[i-1] {
			t.Fatalf("centroids out of order at %d", i)
		}
	}
	if math.Abs(sum-49_995_000) > 1e-3 {
		t.Fatalf("sum = %v", sum)
	}
}

func TestSketchEncoding(t *testing.T) {
	s := &Sketch{}
	s.Add([]float64{-2.5, 3, 3, 1e300, math.Inf(-1)})
	got, err := DecodeSketch(s.Encode())
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, s)
	}
	empty, err := DecodeSketch((&Sketch{}).Encode())
	if err != nil || empty.Len() != 0 {
		t.Fatalf("empty = %+v, %v", empty, err)
	}
	b := s.Encode()
	for _, bad := range [][]byte{nil, {9}, b[:len(b)-3], b[:5]} {
		if _, err := DecodeSketch(bad); err == nil {
			t.Errorf("DecodeSketch(%x) accepted", bad)
		}
	}
}
