package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// rawConn runs statements on the driver connection under database/sql's
// write connection, with prepared statements kept per SQL text. The group
// writer uses it for scalar batches: through database/sql every argument of
// every statement is checked and copied again, and statements not prepared
// at Open are parsed on every call, together about a fifth of the writer's
// time at 1,000 points a batch.
type rawConn struct {
	dc    driver.Conn
	stmts map[string]driver.Stmt
	args  []driver.NamedValue // scratch for the small statements
}

func newRawConn(dc driver.Conn) *rawConn {
	return &rawConn{dc: dc, stmts: map[string]driver.Stmt{}}
}

// ctx is Background on purpose: a statement given a context that can end
// costs the driver a watcher goroutine, and the writer's statements must
// not be interrupted by one caller of the group giving up anyway.
var rawCtx = context.Background()

func (c *rawConn) stmt(query string) (driver.Stmt, error) {
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	p, ok := c.dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, errors.New("driver cannot prepare with a context")
	}
	s, err := p.PrepareContext(rawCtx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := s.(driver.StmtExecContext); !ok {
		s.Close()
		return nil, errors.New("driver statement cannot execute with a context")
	}
	if _, ok := s.(driver.StmtQueryContext); !ok {
		s.Close()
		return nil, errors.New("driver statement cannot query with a context")
	}
	c.stmts[query] = s
	return s, nil
}

// exec runs query with args, which must be numbered from 1.
func (c *rawConn) exec(query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.(driver.StmtExecContext).ExecContext(rawCtx, args)
}

// execValues runs query with values as its arguments, in order.
func (c *rawConn) execValues(query string, values ...driver.Value) (driver.Result, error) {
	return c.exec(query, c.named(values))
}

// queryInt64 returns the first column of the first row, and false when
// there is no row.
func (c *rawConn) queryInt64(query string, values ...driver.Value) (int64, bool, error) {
	s, err := c.stmt(query)
	if err != nil {
		return 0, false, err
	}
	rows, err := s.(driver.StmtQueryContext).QueryContext(rawCtx, c.named(values))
	if err != nil {
		return 0, false, err
	}
	dest := make([]driver.Value, len(rows.Columns()))
	err = rows.Next(dest)
	if cerr := rows.Close(); err == nil || errors.Is(err, io.EOF) {
		if cerr != nil {
			return 0, false, cerr
		}
	}
	if errors.Is(err, io.EOF) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	n, ok := dest[0].(int64)
	if !ok {
		return 0, false, fmt.Errorf("want an integer, got %T", dest[0])
	}
	return n, true, nil
}

func (c *rawConn) named(values []driver.Value) []driver.NamedValue {
	c.args = c.args[:0]
	for i, v := range values {
		c.args = append(c.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return c.args
}

// close finalizes every statement; the connection may then be closed.
func (c *rawConn) close() error {
	var errs []error
	for q, s := range c.stmts {
		errs = append(errs, s.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}
