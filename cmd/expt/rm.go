package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// runRm deletes experiments with everything they logged: expt rm ID...
// It asks first on a terminal; elsewhere it needs --yes.
func runRm(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rm", flag.ContinueOnError)
	var r remoteFlags
	r.add(fs)
	yes := fs.Bool("yes", false, "do not ask")
	ids, err := parseRemote(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return errors.New("usage: expt rm ID... [--yes]")
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	if !*yes {
		if !isTerminal(stdin) {
			return errors.New("rm: deleting needs --yes when not run from a terminal")
		}
		fmt.Fprintf(stderr, "delete %d experiment(s) and everything they logged? [y/N] ", len(ids))
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return errors.New("rm: nothing deleted")
		}
	}
	var failed []string
	for _, id := range ids {
		if err := c.DeleteExperiment(ctx, id); err != nil {
			fmt.Fprintf(stderr, "rm %s: %v\n", id, err)
			failed = append(failed, id)
			continue
		}
		fmt.Fprintf(stdout, "deleted %s\n", id)
	}
	if len(failed) > 0 {
		return fmt.Errorf("rm: %d of %d not deleted", len(failed), len(ids))
	}
	return nil
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
