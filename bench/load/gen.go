package main

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// rareWord appears in about one rollout in rareEvery of the query data set,
// so that the full-text query has a known, small number of matches.
const (
	rareWord  = "zebracorn"
	rareEvery = 1000
)

// vocabulary makes text that looks enough like prose for a tokenizer: words
// of varied length, so the full-text index has a realistic number of terms.
var vocabulary = strings.Fields(`the a of to and in is it that for on with as was be by this are or an
from at which not have has but all were when we there can more if will one what so out about up into
them some only other then its also two time could than first been these way may after over new most
answer compute number value step reward model policy gradient token sample group prompt solve check
therefore because equation integer result final proof assume suppose hence total each every given
find show prove let where sum product square root prime divide multiply subtract add minus plus equal
greater less function variable matrix vector probability expected distribution random optimal`)

// appendText appends about n bytes of words to b.
func appendText(b []byte, rng *rand.Rand, n int, rare bool) []byte {
	start := len(b)
	if rare {
		b = append(b, rareWord...)
	}
	for len(b)-start < n {
		if len(b) > start {
			b = append(b, ' ')
		}
		b = append(b, vocabulary[rng.IntN(len(vocabulary))]...)
	}
	return b
}

// scalarBatch encodes points [from, from+n) of metric name as a scalars request.
func scalarBatch(b []byte, name string, from, n int, ts float64) []byte {
	b = append(b[:0], `{"scalars":[`...)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		step := from + i
		b = append(b, `{"step":`...)
		b = strconv.AppendInt(b, int64(step), 10)
		b = append(b, `,"mode":"train","name":"`...)
		b = append(b, name...)
		b = append(b, `","value":`...)
		b = strconv.AppendFloat(b, 1/float64(step+1), 'g', -1, 64)
		b = append(b, `,"ts":`...)
		b = strconv.AppendFloat(b, ts, 'f', 3, 64)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// groupSize is how many rollouts share a prompt and step (a GRPO group).
const groupSize = 8

// rolloutBatch encodes n rollouts starting at index from: each has a
// prompt of a quarter of textBytes, a completion of the rest, and three
// rewards, "correct" uniform in [0,1) so that filters select a known share.
func rolloutBatch(b []byte, rng *rand.Rand, from, n, textBytes int, withRare bool, ts float64) []byte {
	b = append(b[:0], `{"rollouts":[`...)
	var prompt []byte
	for i := 0; i < n; i++ {
		idx := from + i
		if i > 0 {
			b = append(b, ',')
		}
		if i == 0 || idx%groupSize == 0 {
			prompt = append(prompt[:0], "Question "...)
			prompt = strconv.AppendInt(prompt, int64(idx/groupSize), 10)
			prompt = append(prompt, ": "...)
			prompt = appendText(prompt, rng, textBytes/4, false)
		}
		b = append(b, `{"step":`...)
		b = strconv.AppendInt(b, int64(idx/1000), 10)
		b = append(b, `,"mode":"train","promptText":"`...)
		b = append(b, prompt...)
		b = append(b, `","messages":[{"role":"user","content":"`...)
		b = append(b, prompt...)
		b = append(b, `"},{"role":"assistant","content":"`...)
		b = appendText(b, rng, textBytes-textBytes/4, withRare && rng.IntN(rareEvery) == 0)
		b = append(b, `"}],"rewards":[{"name":"correct","value":`...)
		b = strconv.AppendFloat(b, rng.Float64(), 'f', 6, 64)
		b = append(b, `},{"name":"format","value":`...)
		b = strconv.AppendFloat(b, float64(rng.IntN(2)), 'f', 1, 64)
		b = append(b, `},{"name":"length","value":`...)
		b = strconv.AppendFloat(b, -rng.Float64(), 'f', 6, 64)
		b = append(b, `}],"ts":`...)
		b = strconv.AppendFloat(b, ts, 'f', 3, 64)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
