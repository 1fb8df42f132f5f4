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

	"github.com/expt-logger/expt/client"
)

// runLogin checks a key against a server and saves both for the other
// remote commands: expt login URL [--key KEY] (else EXPT_LOGGER_API_KEY,
// else a line of stdin).
func runLogin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	key := fs.String("key", "", "API key (env EXPT_LOGGER_API_KEY; else read from stdin)")
	pos, err := parseRemote(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: expt login URL [--key KEY]")
	}
	url := strings.TrimRight(pos[0], "/")
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("login: %q is not an http(s) URL", url)
	}
	k := first(*key, os.Getenv("EXPT_LOGGER_API_KEY"))
	if k == "" {
		fmt.Fprint(stderr, "API key (make one on the server's Keys page): ")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("login: no API key given")
		}
		k = strings.TrimSpace(line)
	}
	me, err := client.New(url, k).Me(ctx)
	if client.IsUnauthorized(err) {
		return fmt.Errorf("login: %s does not accept that key", url)
	} else if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	p, err := saveConfig(remoteConfig{URL: url, Key: k})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "logged in to %s as %s (saved in %s)\n", url, me.Email, p)
	return nil
}
