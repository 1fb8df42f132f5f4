package http

import (
	"unicode/utf8"

	"github.com/expt-logger/expt"
)

func utf8Valid(b []byte) bool { return utf8.Valid(b) }

// What a write route accepts is a decoded batch that also passes the domain
// check every store runs before writing (expt.Check*): the decoders only
// parse, so their tests decode and check.
func checkedScalars(body []byte) ([]expt.Scalar, error) {
	b, err := decodeScalars(body)
	if err == nil {
		err = expt.CheckScalars(b)
	}
	return b, err
}

func checkedRollouts(body []byte) ([]*expt.Rollout, error) {
	b, err := decodeRollouts(body)
	if err == nil {
		err = expt.CheckRollouts(b)
	}
	return b, err
}

func checkedRunErrors(body []byte) ([]expt.RunError, error) {
	b, err := decodeRunErrors(body)
	if err == nil {
		err = expt.CheckRunErrors(b)
	}
	return b, err
}

func checkedEnvLogs(body []byte) ([]expt.EnvLog, error) {
	b, err := decodeEnvLogs(body)
	if err == nil {
		err = expt.CheckEnvLogs(b)
	}
	return b, err
}
