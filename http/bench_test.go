package http_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
	exhttp "github.com/expt-logger/expt/http"
	"github.com/expt-logger/expt/sqlite"
)

// BenchmarkWriteScalarsHTTP measures the whole ingestion path on loopback:
// HTTP, auth, decoding and the SQLite store, in batches of 1,000 points
// from two concurrent writers. The figure to watch is points/s.
func BenchmarkWriteScalarsHTTP(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "expt.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	u := &expt.User{Email: "bench@example.com", Name: "bench"}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	key, hash, _ := expt.NewToken(expt.KeyPrefix)
	if err := db.CreateAPIKey(ctx, &expt.APIKey{UserID: u.ID, Name: "bench", Prefix: key[:12]}, hash); err != nil {
		b.Fatal(err)
	}
	api := exhttp.NewServer(exhttp.Config{Store: db})
	srv := newLoopback(b, api)
	id := "0190c5a6-0000-7000-8000-00000000beef"
	if _, err := db.CreateExperiment(ctx, &expt.Experiment{ID: id, UserID: u.ID, Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	url := srv + "/api/experiments/" + id + "/scalars"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	const perBatch = 1000
	var step int64
	next := make(chan []byte, 4)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			var sb strings.Builder
			sb.WriteString(`{"scalars":[`)
			for i := 0; i < perBatch; i++ {
				if i > 0 {
					sb.WriteByte(',')
				}
				name := [...]string{"loss", "reward/mean", "kl", "lr"}[i%4]
				fmt.Fprintf(&sb, `{"step":%d,"mode":"train","name":"%s","value":%g,"ts":1732851234.5}`, step, name, float64(i)*0.001)
				if i%4 == 3 {
					step++
				}
			}
			sb.WriteString(`]}`)
			select {
			case next <- []byte(sb.String()):
			case <-stop:
				return
			}
		}
	}()
	b.SetParallelism(1) // GOMAXPROCS writers: 2 on the target machine
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := <-next
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "points/s")
}
