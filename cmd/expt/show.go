package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// runShow prints one experiment: its fields, config and each metric at its
// latest step: expt show ID.
func runShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	var r remoteFlags
	r.add(fs)
	pos, err := parseRemote(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: expt show ID")
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	e, err := c.Experiment(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("show: %w", err)
	}
	summary, err := c.Summary(ctx, e.ID)
	if err != nil {
		return fmt.Errorf("show: %w", err)
	}
	project := strconv.FormatInt(e.ProjectID, 10)
	if ps, err := c.Projects(ctx); err == nil {
		for _, p := range ps {
			if p.ID == e.ProjectID {
				project = p.Name
			}
		}
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\nname\t%s\nstatus\t%s\nproject\t%s\ncreated\t%s\nupdated\t%s\n",
		e.ID, e.Name, e.Status, project, e.CreatedAt.Local().Format(time.DateTime), e.UpdatedAt.Local().Format(time.DateTime))
	if e.LatestStep != nil {
		fmt.Fprintf(tw, "latest step\t%d\n", *e.LatestStep)
	}
	if len(e.Tags) > 0 {
		fmt.Fprintf(tw, "tags\t%s\n", strings.Join(e.Tags, ","))
	}
	fmt.Fprintf(tw, "url\t%s\n", e.URL)
	tw.Flush()
	var cfg bytes.Buffer
	if json.Indent(&cfg, e.Config, "", "  ") == nil && cfg.String() != "{}" {
		fmt.Fprintf(stdout, "\nconfig\n%s\n", cfg.String())
	}
	if len(summary) > 0 {
		keys := make([]string, 0, len(summary))
		for k := range summary {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(stdout)
		tw = tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "METRIC\tSTEP\tVALUE\tPOINTS")
		for _, k := range keys {
			v := summary[k]
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", k, v.Step, fmtNum(float64(v.Value)), v.Count)
		}
		tw.Flush()
	}
	return nil
}

func fmtNum(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}
