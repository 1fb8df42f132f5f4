package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times.
const clockTicks = 100

// processCPU is the CPU seconds (user and system) used so far by every
// process on this machine whose command name is one of names, by name:
// sampled around a phase, it gives what the database (postgres) and the
// server (expt) spent on it, apart from the benchmark's own clients.
// Processes that ended in between are not counted; none do in a phase.
func processCPU(names ...string) map[string]float64 {
	out := map[string]float64{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		comm := s[open+1 : end]
		want := false
		for _, n := range names {
			want = want || comm == n
		}
		if !want {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 13 {
			continue
		}
		// After the name: state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(11) stime(12).
		u, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		out[comm] += (u + st) / clockTicks
	}
	return out
}
