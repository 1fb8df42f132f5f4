package storekit

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
)

// SketchCap is how many distinct values a sketch keeps exactly. A step of
// 16 samples × 64 prompts of a continuous reward has 1,024; beyond the cap
// neighbouring values merge into equal-weight centroids, which moves a
// heatmap cell's count across at most one bin edge and a quantile by at
// most one centroid's span.
const SketchCap = 256

// Sketch summarises one step's values of one series (a reward, or the
// response length): its distinct finite values with their counts, sorted,
// and how many were ±Inf. NaN is counted by the step tables, not here.
// Stored with every step row, it lets a distribution over 10,000 steps
// read 10,000 rows instead of joining every reward to its rollout.
type Sketch struct {
	Inf      int64
	Min, Max float64 // exact finite extremes; meaningless while Len() is 0
	V        []float64
	W        []int64
}

// Len is the number of centroids.
func (s *Sketch) Len() int { return len(s.V) }

// Weight is the number of finite values summarised.
func (s *Sketch) Weight() int64 {
	var n int64
	for _, w := range s.W {
		n += w
	}
	return n
}

// Add folds values in; NaN is skipped, ±Inf counted apart.
func (s *Sketch) Add(values []float64) {
	add := make([]float64, 0, len(values))
	for _, v := range values {
		switch {
		case math.IsNaN(v):
		case math.IsInf(v, 0):
			s.Inf++
		default:
			add = append(add, v)
		}
	}
	if len(add) == 0 {
		return
	}
	slices.Sort(add)
	if len(s.V) == 0 || add[0] < s.Min {
		s.Min = add[0]
	}
	if len(s.V) == 0 || add[len(add)-1] > s.Max {
		s.Max = add[len(add)-1]
	}
	// Merge two sorted lists, coalescing equal values.
	v, w := make([]float64, 0, len(s.V)+len(add)), make([]int64, 0, len(s.V)+len(add))
	push := func(x float64, n int64) {
		if k := len(v) - 1; k >= 0 && v[k] == x {
			w[k] += n
			return
		}
		v, w = append(v, x), append(w, n)
	}
	i, j := 0, 0
	for i < len(s.V) || j < len(add) {
		if j == len(add) || (i < len(s.V) && s.V[i] <= add[j]) {
			push(s.V[i], s.W[i])
			i++
		} else {
			push(add[j], 1)
			j++
		}
	}
	s.V, s.W = v, w
	if len(s.V) > SketchCap {
		s.compact()
	}
}

// compact merges runs of neighbours into centroids of about equal weight
// (their weighted mean), keeping sums exact and at most SketchCap of them.
func (s *Sketch) compact() {
	total := s.Weight()
	target := (total + SketchCap - 1) / SketchCap
	v, w := make([]float64, 0, SketchCap), make([]int64, 0, SketchCap)
	var sum float64
	var n int64
	for i := range s.V {
		sum += s.V[i] * float64(s.W[i])
		n += s.W[i]
		if n >= target || i == len(s.V)-1 {
			v, w = append(v, sum/float64(n)), append(w, n)
			sum, n = 0, 0
		}
	}
	s.V, s.W = v, w
}

// sketchVersion leads every encoded sketch, so that a later encoding can be told apart.
const sketchVersion = 1

// Encode is the stored form: version, Inf, Min, Max, then each centroid
// as a float64 and a varint weight (one byte for a single value).
func (s *Sketch) Encode() []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64*2+16+9*len(s.V))
	b = append(b, sketchVersion)
	b = binary.AppendUvarint(b, uint64(s.Inf))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.Min))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.Max))
	b = binary.AppendUvarint(b, uint64(len(s.V)))
	for i := range s.V {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.V[i]))
		b = binary.AppendUvarint(b, uint64(s.W[i]))
	}
	return b
}

var errSketch = errors.New("malformed sketch")

// DecodeSketch reads what Encode wrote.
func DecodeSketch(b []byte) (*Sketch, error) {
	if len(b) < 1 || b[0] != sketchVersion {
		return nil, errSketch
	}
	b = b[1:]
	s := &Sketch{}
	inf, k := binary.Uvarint(b)
	if k <= 0 || len(b) < k+16 {
		return nil, errSketch
	}
	s.Inf = int64(inf)
	b = b[k:]
	s.Min = math.Float64frombits(binary.LittleEndian.Uint64(b))
	s.Max = math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
	b = b[16:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errSketch
	}
	b = b[k:]
	s.V, s.W = make([]float64, n), make([]int64, n)
	for i := range s.V {
		if len(b) < 9 {
			return nil, errSketch
		}
		s.V[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
		w, k := binary.Uvarint(b[8:])
		if k <= 0 {
			return nil, errSketch
		}
		s.W[i] = int64(w)
		b = b[8+k:]
	}
	return s, nil
}
