package export

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"
	"time"
)

// csvTable writes a header line, then a line a row. Floats are written in
// full precision; NaN, inf and -inf are what pandas, polars and DuckDB
// parse back as those values; null is an empty field.
type csvTable struct {
	w      *csv.Writer
	cols   []Column
	fields []string
}

func newCSV(w io.Writer, cols []Column) (*csvTable, error) {
	t := &csvTable{w: csv.NewWriter(w), cols: cols, fields: make([]string, len(cols))}
	for i, c := range cols {
		t.fields[i] = c.Name
	}
	return t, t.w.Write(t.fields)
}

func (t *csvTable) Row(cells []Cell) error {
	for i, c := range t.cols {
		cell := &cells[i]
		if cell.Null {
			t.fields[i] = ""
			continue
		}
		switch c.Kind {
		case String, JSON:
			t.fields[i] = cell.S
		case Int:
			t.fields[i] = strconv.FormatInt(cell.I, 10)
		case Float:
			t.fields[i] = csvFloat(cell.F)
		case Time:
			t.fields[i] = time.UnixMicro(cell.I).UTC().Format(time.RFC3339Nano)
		}
	}
	return t.w.Write(t.fields)
}

func (t *csvTable) Close() error {
	t.w.Flush()
	return t.w.Error()
}

func csvFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
