package export

import (
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
)

// Format is an export's file format.
type Format string

// The formats an export can be written in.
const (
	JSONL   Format = "jsonl"
	CSV     Format = "csv"
	Parquet Format = "parquet"
)

// ParseFormat reads a format name; "" is JSON Lines.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "":
		return JSONL, nil
	case JSONL, CSV, Parquet:
		return f, nil
	}
	return "", fmt.Errorf("format: must be jsonl, csv or parquet, not %q", s)
}

// ContentType is the media type of f.
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case Parquet:
		return "application/vnd.apache.parquet"
	}
	return "application/jsonl; charset=utf-8"
}

// Disposition is the Content-Disposition of a download named base.f.
func (f Format) Disposition(base string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": base + "." + string(f)})
}

// Kind is what a column holds.
type Kind int

// Column kinds.
const (
	String Kind = iota
	Int
	Float
	Time // Cell.I microseconds since the epoch, UTC
	JSON // Cell.S is JSON text: embedded as JSON in JSON Lines, text elsewhere
)

// Column is one column of a table.
type Column struct {
	Name     string
	Kind     Kind
	Optional bool // may be null
	Dict     bool // few distinct values (experiment, mode, name): dictionary-encoded in Parquet
}

// Cell is one value of a row; which field holds it depends on the column's Kind.
type Cell struct {
	S    string
	I    int64
	F    float64
	Null bool
}

// Table writes rows of fixed columns in one format.
type Table interface {
	// Row writes one row, a cell per column.
	Row(cells []Cell) error
	// Close writes what is buffered and the format's footer; the output
	// is a whole file only after it.
	Close() error
}

// NewTable starts a table of cols in format f on w.
func NewTable(f Format, w io.Writer, cols []Column) (Table, error) {
	switch f {
	case JSONL:
		return newJSONL(w, cols), nil
	case CSV:
		return newCSV(w, cols)
	case Parquet:
		return newParquet(w, cols)
	}
	return nil, fmt.Errorf("unknown format %q", f)
}

// Micros is t as a Time cell's value.
func Micros(t time.Time) int64 { return t.UnixMicro() }
