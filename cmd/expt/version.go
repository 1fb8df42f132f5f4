package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/expt-logger/expt"
)

func runVersion(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "expt %s %s\n", expt.Version, runtime.Version())
	return err
}
