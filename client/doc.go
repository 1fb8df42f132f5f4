// Package client is the Go client of an expt-logger server, standard
// library only, on the wire types of package api (the same ones the server
// uses): reading experiments, metrics, rollouts and exports, and a logging
// Run for Go programs (environment servers, eval harnesses) that batches
// in the background, retries with Idempotency-Key, holds bounded memory
// and never blocks its caller.
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("EXPT_LOGGER_API_KEY"))
//	page, err := c.Experiments(ctx, client.ListOptions{Project: "math-grpo"})
//	run, err := c.Start(ctx, client.RunOptions{Name: "env-eval", Project: "math-grpo"})
//	run.Log(step, map[string]float64{"eval/pass@1": 0.41})
//	run.End(ctx, "complete")
package client
