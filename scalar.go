package expt

import "context"

// Scalar is one metric value. Its identity is (experiment, Mode, Name, Step):
// writing the same identity again replaces the value (last write wins).
type Scalar struct {
	Step  int64
	Mode  string  // first path segment of the logged key: "train", "eval", ...
	Name  string  // the rest of the key
	Value float64 // may be NaN or ±Inf
	TS    float64 // client wall clock, seconds since the epoch; 0 when unknown
}

// Metric names one series of an experiment.
type Metric struct {
	Mode     string
	Name     string
	Count    int64
	LastStep int64
}

// SeriesQuery asks for one metric's points, downsampled to at most MaxPoints buckets.
type SeriesQuery struct {
	ExperimentID string
	Mode, Name   string
	MaxPoints    int    // 0: every point
	FromStep     *int64 // inclusive bounds; nil: open
	ToStep       *int64
}

// Bucket summarises consecutive points of a series: the minimum, maximum and
// last point by step, each with its step. A bucket of one point has all three
// equal to it. NaN values never win Min or Max; a bucket of only NaNs has
// Min = Max = NaN.
type Bucket struct {
	Count    int64
	MinStep  int64
	Min      float64
	MaxStep  int64
	Max      float64
	LastStep int64
	Last     float64
	LastTS   float64 // client time of the last point; 0 when unknown
}

// Series is a metric over its step range, in step order.
type Series struct {
	Mode        string
	Name        string
	Total       int64 // points in the requested range
	Downsampled bool  // false: one bucket per point
	Buckets     []Bucket
}

// Point is one (step, value) of a series, for the original platform's GET.
type Point struct {
	Step  int64
	Value float64
	TS    float64
}

// ScalarStore keeps scalar metrics. Callers check that the experiment is
// the user's before calling; ENOTFOUND when it does not exist.
type ScalarStore interface {
	// WriteScalars stores a batch in one transaction, all or nothing. A
	// non-empty idemKey that was already applied to this experiment makes the
	// call a no-op that returns applied=false; the key is recorded in the same
	// transaction as the batch.
	WriteScalars(ctx context.Context, experimentID string, batch []Scalar, idemKey string) (applied bool, err error)
	// Metrics lists the series of an experiment, by mode then name.
	Metrics(ctx context.Context, experimentID string) ([]Metric, error)
	// Scalars returns every point of every metric of one mode, by name.
	Scalars(ctx context.Context, experimentID, mode string) (map[string][]Point, error)
	Series(ctx context.Context, q SeriesQuery) (*Series, error)
}
