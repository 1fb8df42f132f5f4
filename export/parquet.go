package export

import (
	"fmt"
	"io"
	"reflect"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// rowGroupBytes is about how much a Parquet row group holds before it is
// flushed: the writer buffers a whole row group, so this bounds an
// export's memory whatever its size.
const rowGroupBytes = 4 << 20

// batchRows is how many rows go to the Parquet writer at once.
const batchRows = 1024

type parquetTable struct {
	w        *parquet.GenericWriter[any]
	cols     []Column
	rows     []parquet.Row
	buffered int // estimated bytes in the current row group
}

func newParquet(w io.Writer, cols []Column) (*parquetTable, error) {
	fields := make([]parquet.Field, len(cols))
	for i, c := range cols {
		var n parquet.Node
		switch c.Kind {
		case String, JSON:
			n = parquet.String()
		case Int:
			n = parquet.Int(64)
		case Float:
			n = parquet.Leaf(parquet.DoubleType)
		case Time:
			n = parquet.Timestamp(parquet.Microsecond)
		}
		if c.Dict {
			n = parquet.Encoded(n, &parquet.RLEDictionary)
		}
		if c.Optional {
			n = parquet.Optional(n)
		}
		fields[i] = field{n, c.Name}
	}
	schema := parquet.NewSchema("export", ordered{parquet.Group{}, fields})
	cfg, err := parquet.NewWriterConfig(schema, parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.CreatedBy("expt", "", ""))
	if err != nil {
		return nil, fmt.Errorf("parquet schema: %w", err)
	}
	return &parquetTable{w: parquet.NewGenericWriter[any](w, cfg), cols: cols, rows: make([]parquet.Row, 0, batchRows)}, nil
}

func (t *parquetTable) Row(cells []Cell) error {
	var row parquet.Row
	if len(t.rows) < cap(t.rows) {
		row = t.rows[:len(t.rows)+1][len(t.rows)][:0] // reuse the slot's values
	}
	for i, c := range t.cols {
		cell := &cells[i]
		def := 0
		if c.Optional {
			def = 1
		}
		var v parquet.Value
		switch {
		case cell.Null:
			v, def = parquet.NullValue(), 0
		case c.Kind == String || c.Kind == JSON:
			// The writer copies values into its pages and never writes to
			// them: the string's bytes are passed as they are, saving an
			// allocation and a copy per string per row.
			v = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(cell.S), len(cell.S)))
			t.buffered += len(cell.S)
		case c.Kind == Float:
			v = parquet.DoubleValue(cell.F)
			t.buffered += 8
		default:
			v = parquet.Int64Value(cell.I)
			t.buffered += 8
		}
		row = append(row, v.Level(0, def, i))
	}
	t.rows = append(t.rows, row)
	if len(t.rows) == cap(t.rows) {
		return t.flush(false)
	}
	return nil
}

// flush hands the batched rows to the writer and, past rowGroupBytes (or
// at the end), closes the row group.
func (t *parquetTable) flush(end bool) error {
	if len(t.rows) > 0 {
		if _, err := t.w.WriteRows(t.rows); err != nil {
			return fmt.Errorf("write parquet rows: %w", err)
		}
		for _, r := range t.rows {
			clear(r) // drop the references to this batch's strings
		}
		t.rows = t.rows[:0]
	}
	if t.buffered >= rowGroupBytes || end {
		t.buffered = 0
		if err := t.w.Flush(); err != nil {
			return fmt.Errorf("flush parquet row group: %w", err)
		}
	}
	return nil
}

func (t *parquetTable) Close() error {
	if err := t.flush(false); err != nil {
		return err
	}
	if err := t.w.Close(); err != nil {
		return fmt.Errorf("close parquet: %w", err)
	}
	return nil
}

// ordered is a Parquet group whose columns keep the order they were given
// in: parquet.Group is a map and sorts them by name, which would put a
// table's reward columns before its step.
type ordered struct {
	parquet.Group
	fields []parquet.Field
}

func (g ordered) Fields() []parquet.Field { return g.fields }

// field names a column node of an ordered group.
type field struct {
	parquet.Node
	name string
}

func (f field) Name() string { return f.name }

// Value is only used to write Go values by reflection, which this package
// never does: rows are written as parquet.Row.
func (f field) Value(reflect.Value) reflect.Value {
	panic("export: a Parquet field of an export has no Go value")
}
