package export

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/expt-logger/expt/api"
)

// jsonlTable writes one JSON object a line, keys in column order. Lines
// are built by hand into one buffer: encoding/json with a map per row
// would sort the keys and allocate for every cell.
type jsonlTable struct {
	w    *bufio.Writer
	cols []Column
	keys [][]byte // `"name":` per column, with the comma before it
	line []byte
}

func newJSONL(w io.Writer, cols []Column) *jsonlTable {
	t := &jsonlTable{w: bufio.NewWriterSize(w, 256<<10), cols: cols}
	for i, c := range cols {
		k, _ := json.Marshal(c.Name)
		if i > 0 {
			k = append([]byte{','}, k...)
		}
		t.keys = append(t.keys, append(k, ':'))
	}
	return t
}

func (t *jsonlTable) Row(cells []Cell) error {
	b := append(t.line[:0], '{')
	for i, c := range t.cols {
		b = append(b, t.keys[i]...)
		cell := &cells[i]
		if cell.Null {
			b = append(b, "null"...)
			continue
		}
		switch c.Kind {
		case String:
			b = appendJSONString(b, cell.S)
		case Int:
			b = strconv.AppendInt(b, cell.I, 10)
		case Float:
			b = api.AppendNum(b, cell.F) // NaN and the infinities as the wire's strings
		case Time:
			b = append(b, '"')
			b = time.UnixMicro(cell.I).UTC().AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		case JSON:
			b = append(b, cell.S...)
		}
	}
	b = append(b, '}', '\n')
	t.line = b
	_, err := t.w.Write(b)
	return err
}

func (t *jsonlTable) Close() error { return t.w.Flush() }

// appendJSONString quotes s as JSON; text without characters to escape,
// most of it, is copied as it is.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
