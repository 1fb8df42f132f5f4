package export

import (
	"context"

	"github.com/expt-logger/expt"
)

// Source is what an export reads: the store's full-fidelity reads.
type Source interface {
	MetricKeys(ctx context.Context, experimentID string) ([]expt.MetricKey, error)
	Points(ctx context.Context, q expt.PointQuery) ([]expt.Scalar, bool, error)
	Rollouts(ctx context.Context, q expt.RolloutQuery) ([]*expt.Rollout, bool, error)
	RewardNames(ctx context.Context, experimentID string) ([]string, error)
}

// Progress is told how many rows were written so far; nil for none.
type Progress func(rows int64)
