package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeFlagsEnvAndPrecedence(t *testing.T) {
	t.Setenv("EXPT_ADDR", "127.0.0.1:9999")
	t.Setenv("EXPT_MAX_BODY", "1024")
	t.Setenv("EXPT_DATA_DIR", "/from/env")
	t.Setenv("EXPT_PUBLIC_URL", "https://env.example")

	c, err := parseServeFlags([]string{"--addr", "127.0.0.1:1234", "--public-url", "https://flag.example"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:1234" {
		t.Errorf("Addr = %q, want the flag's value over EXPT_ADDR", c.Addr)
	}
	if c.PublicURL != "https://flag.example" {
		t.Errorf("PublicURL = %q, want the flag's value", c.PublicURL)
	}
	if c.MaxBody != 1024 {
		t.Errorf("MaxBody = %d, want 1024 from EXPT_MAX_BODY", c.MaxBody)
	}
	if c.DataDir != "/from/env" {
		t.Errorf("DataDir = %q, want /from/env from EXPT_DATA_DIR", c.DataDir)
	}
}

func TestServeFlagsDefaults(t *testing.T) {
	for _, v := range []string{"EXPT_ADDR", "EXPT_MAX_BODY", "EXPT_DATA_DIR", "EXPT_DATABASE_URL", "EXPT_PUBLIC_URL", "EXPT_LOG_FORMAT"} {
		t.Setenv(v, "")
	}
	c, err := parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.MaxBody != 32<<20 || c.LogFormat != "text" {
		t.Errorf("defaults = %q %d %q", c.Addr, c.MaxBody, c.LogFormat)
	}
}

func TestServeFlagsRejectBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"negative max-body", []string{"--max-body", "-1"}, "", "must be positive"},
		{"bad env number", nil, "lots", "EXPT_MAX_BODY"},
		{"bad log format", []string{"--log-format", "xml"}, "", "text or json"},
		{"negative rate limit", []string{"--rate-limit", "-2"}, "", "--rate-limit must be 0"},
		{"stray argument", []string{"extra"}, "", "unexpected argument"},
		{"bad signup", []string{"--signup", "maybe"}, "", "--signup must be open, invite or closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("EXPT_MAX_BODY", tc.env)
			_, err := parseServeFlags(tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestSQLitePath(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg")
	for _, tc := range []struct {
		flags   storeFlags
		want    string
		wantErr string
	}{
		{storeFlags{DataDir: "/d"}, "/d/expt.db", ""},
		{storeFlags{}, "/xdg/expt/expt.db", ""},
		{storeFlags{DataDir: "/d", DBURL: "sqlite:/other/x.db"}, "/other/x.db", ""},
		{storeFlags{DBURL: "sqlite:rel.db"}, "rel.db", ""},
		{storeFlags{DBURL: "sqlite:"}, "", "no path"},
		{storeFlags{DBURL: "postgres://u@h/db"}, "", "names a PostgreSQL database"},
		{storeFlags{DBURL: "postgresql://u@h/db"}, "", "names a PostgreSQL database"},
		{storeFlags{DBURL: "mysql://x"}, "", "unsupported"},
	} {
		got, err := tc.flags.sqlitePath()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: err = %v, want %q", tc.flags, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != filepath.FromSlash(tc.want) {
			t.Errorf("%+v: got %q, %v; want %q", tc.flags, got, err, tc.want)
		}
	}
}

func TestDefaultDataDirWithoutXDG(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	got, err := defaultDataDir()
	if err != nil || got != "/home/u/.local/share/expt" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestRunUnknownCommand(t *testing.T) {
	var out, errb strings.Builder
	if err := Run(t.Context(), []string{"frobnicate"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(errb.String(), "expt serve") {
		t.Errorf("usage not printed: %q", errb.String())
	}
}

func TestKeysCreateRequiresName(t *testing.T) {
	err := Run(t.Context(), []string{"keys", "create", "--data", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--name is required") {
		t.Fatalf("err = %v", err)
	}
}
