// Package ui holds the web interface, built into ui/dist and embedded in the
// binary so that one file serves both the API and the pages.
package ui

import (
	"embed"
	"io/fs"
)

// The all: prefix keeps files whose names start with "." or "_" (bundlers emit
// such chunks), which a plain pattern would silently leave out.
//
//go:embed all:dist
var dist embed.FS

// FS returns the built UI with dist/ stripped, so index.html is at its root.
func FS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub only fails on an invalid path, and "dist" is a constant.
		panic(err)
	}
	return sub
}
