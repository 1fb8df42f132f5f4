package expt

import "context"

// MaxPointPage is the most points one PointQuery page returns.
const MaxPointPage = 100_000

// PointQuery pages an experiment's points at full fidelity (never sampled),
// in (mode, name, step) order by bytes, with keyset paging: a page starts
// after After, so reading page after page costs the same however far in.
type PointQuery struct {
	ExperimentID string
	Mode         string      // "" for every mode
	Keys         []MetricKey // none: every metric (of Mode)
	FromStep     *int64      // inclusive bounds; nil: open
	ToStep       *int64
	After        *PointCursor // nil: from the first point
	Limit        int          // 0: MaxPointPage
	// Buf, when given, is where the page is read to (from Buf[:0]): a
	// reader of millions of points reuses a few pages instead of
	// allocating one each time.
	Buf []Scalar
}

// PointCursor is where a page of points ended: the next page starts after it.
type PointCursor struct {
	Mode, Name string
	Step       int64
}

// Check validates q as every store must before reading.
func (q PointQuery) Check() error {
	switch {
	case q.Limit < 0 || q.Limit > MaxPointPage:
		return Errorf(EINVALID, "limit must be between 0 and %d", MaxPointPage)
	case q.FromStep != nil && q.ToStep != nil && *q.FromStep > *q.ToStep:
		return Errorf(EINVALID, "from must not be after to")
	}
	return nil
}

// PointReader is the full-fidelity read of scalars, for exports and
// notebooks; the ScalarStore's Series is for charts.
type PointReader interface {
	// Points returns a page of points and whether more follow it.
	Points(ctx context.Context, q PointQuery) (page []Scalar, more bool, err error)
	// MetricKeys lists an experiment's metrics in (mode, name) order by
	// bytes, Points' order; unlike Metrics it counts nothing, so it never
	// waits for chart rollups to be brought up to date.
	MetricKeys(ctx context.Context, experimentID string) ([]MetricKey, error)
	// RewardNames lists an experiment's reward names in the order first logged.
	RewardNames(ctx context.Context, experimentID string) ([]string, error)
}
