package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/expt-logger/expt/client"
)

// The remote commands (login, ls, show, export, rm) talk to a server
// through package client, with the URL and key from --url and --key, else
// EXPT_LOGGER_BASE_URL and EXPT_LOGGER_API_KEY, else what `expt login`
// saved.

// remoteConfig is what `expt login` saves.
type remoteConfig struct {
	URL string `json:"url"`
	Key string `json:"key"`
}

// configPath is $EXPT_CONFIG, else $XDG_CONFIG_HOME/expt/config.json,
// else ~/.config/expt/config.json.
func configPath() (string, error) {
	if p := os.Getenv("EXPT_CONFIG"); p != "" {
		return p, nil
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("config: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "expt", "config.json"), nil
}

func loadConfig() (remoteConfig, error) {
	var c remoteConfig
	p, err := configPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return c, fmt.Errorf("read %s: %w", p, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("read %s: %w", p, err)
	}
	return c, nil
}

// saveConfig writes c readable by its owner only: it holds an API key.
func saveConfig(c remoteConfig) (string, error) {
	p, err := configPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("save config: %w", err)
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("save config: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // an existing file keeps its mode through WriteFile
		return "", fmt.Errorf("save config: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("save config: %w", err)
	}
	return p, nil
}

// remoteFlags adds --url and --key to fs.
type remoteFlags struct{ url, key string }

func (r *remoteFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&r.url, "url", "", "server URL (env EXPT_LOGGER_BASE_URL; else what expt login saved)")
	fs.StringVar(&r.key, "key", "", "API key (env EXPT_LOGGER_API_KEY; else what expt login saved)")
}

// client resolves the server and key: flags, the environment, the saved config.
func (r *remoteFlags) client() (*client.Client, error) {
	c, err := loadConfig()
	if err != nil {
		return nil, err
	}
	url, key := first(r.url, os.Getenv("EXPT_LOGGER_BASE_URL"), c.URL), first(r.key, os.Getenv("EXPT_LOGGER_API_KEY"), c.Key)
	if url == "" {
		return nil, errors.New("no server: run expt login URL, or give --url or EXPT_LOGGER_BASE_URL")
	}
	if key == "" {
		return nil, errors.New("no API key: run expt login URL, or give --key or EXPT_LOGGER_API_KEY")
	}
	return client.New(url, key), nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseRemote parses a remote command's flags, which may come before or
// after its arguments (expt export ID -o out).
func parseRemote(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
