package main

import (
	"flag"
	"fmt"
	"os"
)

// envFlags maps flag names to the environment variables that may set them.
type envFlags map[string]string

// apply sets every flag of fs that was not given on the command line from its
// environment variable, so that a flag always wins over the environment and
// the environment over the default. Call it after fs.Parse.
func (m envFlags) apply(fs *flag.FlagSet) error {
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, env := range m {
		if given[name] {
			continue
		}
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("%s=%q: %w", env, v, err)
		}
	}
	return nil
}

// describe appends the environment variable to each flag's usage text, so
// -h tells people about both ways of setting it.
func (m envFlags) describe(fs *flag.FlagSet) {
	for name, env := range m {
		if f := fs.Lookup(name); f != nil {
			f.Usage += " (env " + env + ")"
		}
	}
}
