package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tvalue\tunit\tdetail")
	for _, r := range rows {
		v := fmt.Sprintf("%.1f", r.Value)
		if r.Value >= 100 {
			v = count(int(r.Value + 0.5))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.What, v, r.Unit, r.Detail)
	}
	tw.Flush()
}
