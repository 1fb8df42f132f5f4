package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
)

// eventChannel prefixes the LISTEN/NOTIFY channel every replica listens
// on; the schema completes it, because channels are per database and two
// installations (or test runs) may share one database in two schemas.
const eventChannel = "expt_events:"

// maxNotify is the largest payload sent inline; PostgreSQL refuses NOTIFY
// payloads of 8000 bytes or more. A larger event goes into live_events and
// the notification carries its id.
const maxNotify = 7900

// publishQueue bounds the events waiting to be broadcast: Publish never
// blocks a writer; beyond it, other replicas miss events (this one's
// watchers still get them).
const publishQueue = 1024

// EventBus is an expt.EventBus that reaches the watchers on every replica
// sharing the database: events go to this replica's watchers at once
// (through local) and to the others through NOTIFY on one channel, which
// every replica LISTENs on with a connection of its own.
type EventBus struct {
	db      *DB
	local   expt.EventBus
	origin  string // this bus's id, to skip its own notifications
	channel string
	queue   chan expt.Event
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	ready   chan struct{} // closed once the first LISTEN is in place
	once    sync.Once
}

// NewEventBus starts a bus over local (the in-process fan-out that holds
// this replica's subscribers). Close stops it.
func (db *DB) NewEventBus(ctx context.Context, local expt.EventBus) (*EventBus, error) {
	var schema string
	if err := db.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("event bus: %w", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	run, cancel := context.WithCancel(context.Background())
	bus := &EventBus{db: db, local: local, origin: hex.EncodeToString(b[:]), channel: eventChannel + schema,
		queue: make(chan expt.Event, publishQueue), cancel: cancel, ready: make(chan struct{})}
	bus.wg.Add(2)
	go bus.listen(run)
	go bus.broadcast(run)
	return bus, nil
}

// Ready returns a channel closed once the bus listens for other replicas'
// events (tests wait on it; serving does not need to).
func (b *EventBus) Ready() <-chan struct{} { return b.ready }

// Close stops listening and broadcasting and waits for both to end.
func (b *EventBus) Close() error {
	b.cancel()
	b.wg.Wait()
	return nil
}

// Publish delivers e to this replica's watchers and queues it for the others.
func (b *EventBus) Publish(ctx context.Context, e expt.Event) {
	b.local.Publish(ctx, e)
	select {
	case b.queue <- e:
	default: // the database is slower than the writers: drop rather than block them
	}
}

// Subscribe watches one experiment's events, from any replica.
// Subscribe watches through this replica's bus: event IDs are this
// replica's, so a watcher that reconnects to another replica gets a reset
// (refetch) instead of a resume.
func (b *EventBus) Subscribe(experimentID, lastID string) expt.Subscription {
	return b.local.Subscribe(experimentID, lastID)
}

// broadcast sends queued events to the other replicas, in order.
func (b *EventBus) broadcast(ctx context.Context) {
	defer b.wg.Done()
	lastPrune := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-b.queue:
			_ = b.send(ctx, e) // a failed broadcast loses the event for other replicas only
			if time.Since(lastPrune) > 30*time.Second {
				lastPrune = time.Now()
				// Any replica may prune: an event a minute old has been read by every listener.
				_, _ = b.db.pool.Exec(ctx, `DELETE FROM live_events WHERE created_at < now() - interval '1 minute'`)
			}
		}
	}
}

// send notifies "<origin> i <base64 gob>" inline, or "<origin> p <id>"
// pointing into live_events. gob, because JSON cannot carry NaN values.
func (b *EventBus) send(ctx context.Context, e expt.Event) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&e); err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	var payload string
	if len(b.origin)+3+base64.StdEncoding.EncodedLen(buf.Len()) <= maxNotify {
		payload = b.origin + " i " + base64.StdEncoding.EncodeToString(buf.Bytes())
	} else {
		// Stored as it is: a base64 copy of a 16 MB event would be 21 MB more.
		var id int64
		if err := b.db.pool.QueryRow(ctx, `INSERT INTO live_events(payload) VALUES ($1) RETURNING id`, buf.Bytes()).Scan(&id); err != nil {
			return fmt.Errorf("store event: %w", err)
		}
		payload = b.origin + " p " + strconv.FormatInt(id, 10)
	}
	if _, err := b.db.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, b.channel, payload); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// listen holds a connection of its own in LISTEN, reconnecting after a
// failure, and publishes other replicas' events to local watchers. Events
// sent while it is reconnecting are missed; live charts recover on their
// next refetch.
func (b *EventBus) listen(ctx context.Context) {
	defer b.wg.Done()
	for backoff := 100 * time.Millisecond; ctx.Err() == nil; {
		err := b.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

func (b *EventBus) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, b.db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		return err
	}
	b.once.Do(func() { close(b.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		origin, rest, ok := strings.Cut(n.Payload, " ")
		if !ok || origin == b.origin {
			continue
		}
		e, err := b.decode(ctx, rest)
		if err != nil {
			continue // a malformed or pruned event: nothing to deliver
		}
		b.local.Publish(ctx, e)
	}
}

func (b *EventBus) decode(ctx context.Context, s string) (expt.Event, error) {
	var e expt.Event
	kind, body, ok := strings.Cut(s, " ")
	if !ok {
		return e, errors.New("malformed event notification")
	}
	var raw []byte
	switch kind {
	case "i":
		var err error
		if raw, err = base64.StdEncoding.DecodeString(body); err != nil {
			return e, err
		}
	case "p":
		id, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return e, err
		}
		if err := b.db.pool.QueryRow(ctx, `SELECT payload FROM live_events WHERE id = $1`, id).Scan(&raw); err != nil {
			return e, err
		}
	default:
		return e, fmt.Errorf("unknown event notification kind %q", kind)
	}
	err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&e)
	return e, err
}
