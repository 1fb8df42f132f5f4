package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/expt-logger/expt/client"
)

// runLs lists experiments, newest first: expt ls [--project P] [--status S] [--name N] [-n N].
func runLs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	var r remoteFlags
	r.add(fs)
	var o client.ListOptions
	fs.StringVar(&o.Project, "project", "", "only this project's (a name or id)")
	fs.StringVar(&o.Status, "status", "", "only runs with this status (active, complete, failed, crashed)")
	fs.StringVar(&o.Name, "name", "", "only names containing this")
	fs.StringVar(&o.Tag, "tag", "", "only runs with this tag")
	n := fs.Int("n", 50, "at most this many (0: all)")
	if _, err := parseRemote(fs, args, stderr); err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tSTEP\tCREATED\tTAGS")
	shown := 0
	for e, err := range c.AllExperiments(ctx, o) {
		if err != nil {
			return fmt.Errorf("ls: %w", err)
		}
		step := "-"
		if e.LatestStep != nil {
			step = fmt.Sprint(*e.LatestStep)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Name, e.Status, step, e.CreatedAt.Local().Format(time.DateTime), strings.Join(e.Tags, ","))
		if shown++; *n > 0 && shown >= *n {
			break
		}
	}
	return tw.Flush()
}
