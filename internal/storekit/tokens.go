package storekit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/expt-logger/expt"
)

// tokensVersion leads every stored token record.
const tokensVersion = 1

// EncodeTokens is the stored form of a rollout's tokens: per message its
// index, its token texts (length-prefixed) and each named series as
// float32, about 4 bytes per token per value on top of the text instead of
// JSON's 20. nil when there are none.
func EncodeTokens(ts []expt.MessageTokens) []byte {
	if len(ts) == 0 {
		return nil
	}
	b := []byte{tokensVersion}
	b = binary.AppendUvarint(b, uint64(len(ts)))
	for _, mt := range ts {
		b = binary.AppendUvarint(b, uint64(mt.Message))
		b = binary.AppendUvarint(b, uint64(len(mt.Text)))
		for _, t := range mt.Text {
			b = binary.AppendUvarint(b, uint64(len(t)))
			b = append(b, t...)
		}
		b = binary.AppendUvarint(b, uint64(len(mt.Values)))
		for _, v := range mt.Values {
			b = binary.AppendUvarint(b, uint64(len(v.Name)))
			b = append(b, v.Name...)
			for _, x := range v.Values {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(x)))
			}
		}
	}
	return b
}

var errTokens = errors.New("malformed tokens")

// DecodeTokens reads what EncodeTokens wrote.
func DecodeTokens(b []byte) ([]expt.MessageTokens, error) {
	if len(b) == 0 || b[0] != tokensVersion {
		return nil, errTokens
	}
	r := reader{b: b[1:]}
	n := r.count()
	out := make([]expt.MessageTokens, 0, n)
	for range n {
		mt := expt.MessageTokens{Message: r.count()}
		texts := r.count()
		mt.Text = make([]string, texts)
		for i := range mt.Text {
			mt.Text[i] = string(r.bytes(r.count()))
		}
		series := r.count()
		for range series {
			v := expt.TokenValues{Name: string(r.bytes(r.count())), Values: make([]float64, texts)}
			raw := r.bytes(4 * texts)
			for i := range v.Values {
				if r.err == nil {
					v.Values[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
				}
			}
			mt.Values = append(mt.Values, v)
		}
		if r.err != nil {
			return nil, r.err
		}
		out = append(out, mt)
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errTokens
	}
	return out, nil
}

// reader reads varints and byte runs, remembering the first error; counts
// are bounded by what is left, so a corrupt length cannot allocate much.
type reader struct {
	b   []byte
	err error
}

func (r *reader) count() int {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 || v > uint64(len(r.b)) {
		r.err = errTokens
		return 0
	}
	r.b = r.b[k:]
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errTokens
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// attachTokens reads a rollout's tokens from rollout_tokens, if it has any.
func attachTokens(ctx context.Context, c Conn, r *expt.Rollout) error {
	w := NewWhere(c.Dollar())
	var data []byte
	err := c.QueryRow(ctx, `SELECT data FROM rollout_tokens WHERE rollout_id = `+w.Bind(r.ID), w.Args...).Scan(&data)
	if ok, err := Found(err); err != nil || !ok {
		return err
	}
	if r.Tokens, err = DecodeTokens(data); err != nil {
		return fmt.Errorf("tokens of rollout %d: %w", r.ID, err)
	}
	r.TokenCount = expt.CountTokens(r.Tokens)
	return nil
}
