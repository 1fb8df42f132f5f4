package sqlite

import "math"

// nullable turns NaN into nil, which SQLite stores as NULL.
func nullable(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}
