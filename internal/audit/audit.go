// Package audit keeps an append-only, hash-chained trail of what the
// service did: every credential vend, every refusal of one, every change
// to identities and providers, every key rotation. Each account has one
// chain; a record's hash covers its content and the previous record's hash,
// so editing, removing or reordering a stored record breaks verification.
// Records never hold secrets.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// Store kinds.
const (
	KindEvent = "audit-event"
	KindHead  = "audit-head"
	// KindIntent holds the changes begun (Begin) whose records are not
	// appended yet.
	KindIntent = "audit-intent"
	headKey    = "head"
)

// Outcomes.
const (
	OutcomeSuccess = "Success"
	OutcomeDenied  = "Denied"
	OutcomeFailed  = "Failed"
	// OutcomeUnknown: the server stopped between starting a change and
	// recording its outcome (Recover); the change may or may not have
	// taken effect.
	OutcomeUnknown = "Unknown"
)

// ErrorInterrupted is the ErrorCode of a record Recover writes.
const ErrorInterrupted = "Interrupted"

// Event is one audit record. Seq, PrevHash and Hash are set by Append.
type Event struct {
	Seq         int64     `json:"seq"`
	Time        time.Time `json:"time"`
	Account     string    `json:"account"`
	Principal   string    `json:"principal,omitempty"`
	AccessKeyID string    `json:"accessKeyId,omitempty"`
	Service     string    `json:"service"`
	Operation   string    `json:"operation"`
	Outcome     string    `json:"outcome"`
	ErrorCode   string    `json:"errorCode,omitempty"`
	Workload    string    `json:"workload,omitempty"`
	User        string    `json:"user,omitempty"`
	Provider    string    `json:"provider,omitempty"`
	Resource    string    `json:"resource,omitempty"`
	RequestID   string    `json:"requestId,omitempty"`
	SourceIP    string    `json:"sourceIp,omitempty"`
	PrevHash    string    `json:"prevHash"`
	Hash        string    `json:"hash"`
}

type head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Sink receives each appended event (e.g. a JSON-lines file); a sink error
// does not undo the append.
type Sink interface {
	Write(ctx context.Context, e Event) error
}

// Trail appends and reads audit events.
type Trail struct {
	store store.Store
	now   func() time.Time
	sinks []Sink

	// heads holds the accounts whose chain head this process has seen: a
	// head is never deleted, so Append need not read it again each time.
	heads sync.Map

	mu         sync.Mutex
	queue      []*appendReq
	committing bool

	// tips holds each account's chain head as this trail last committed
	// it. Only the goroutine running the commit loop (see committing)
	// uses it. A tip lets a batch link its events and write the head in
	// one compare-and-swap instead of reading the head first; when
	// another writer (a replica, another process) moved the head since,
	// the swap fails and the batch reads the head and relinks.
	tips map[string]tip
}

// tip is a chain head and the store version of its record.
type tip struct {
	head
	version int64
	// skip counts the commits that go straight to the locked update:
	// after another writer moved the head, the swap would most likely
	// fail again (replicas taking turns on one chain) and cost a round
	// trip for nothing.
	skip int
}

// swapBackoff is how many commits of an account skip the swap after one
// failed: under contention one commit in swapBackoff+1 pays for a failed
// swap, and without it the swap resumes soon.
const swapBackoff = 32

// NewTrail builds a trail over st.
func NewTrail(st store.Store, now func() time.Time, sinks ...Sink) *Trail {
	if now == nil {
		now = time.Now
	}
	return &Trail{store: st, now: now, sinks: sinks, tips: map[string]tip{}}
}

// genesis is the PrevHash of an account's first record.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// digest is the chained hash of e: the SHA-256 of PrevHash followed by the
// JSON of e with Hash empty. Stored chains depend on this exact definition.
func digest(e Event) (string, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append([]byte(e.PrevHash), b...))
	return hex.EncodeToString(sum[:]), nil
}

// link sets e.Hash to digest(*e) and returns the JSON to store, which is
// json.Marshal of the linked event. It marshals e once, not once for the
// digest and again for the record: Hash is the last member, so the stored
// JSON is the digested JSON with the hash written into its empty "hash":"".
// TestLinkMatchesMarshal keeps the two in step.
func link(e *Event) ([]byte, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b, []byte(`,"hash":""}`)) {
		return nil, errors.New("audit: event JSON does not end with its hash")
	}
	// One buffer holds PrevHash||JSON for the digest and then, after the
	// prefix, the stored JSON: the hash needs 64 more bytes.
	buf := make([]byte, 0, len(e.PrevHash)+len(b)+sha256.Size*2)
	buf = append(buf, e.PrevHash...)
	buf = append(buf, b...)
	sum := sha256.Sum256(buf)
	e.Hash = hex.EncodeToString(sum[:])
	buf = append(buf[:len(buf)-len(`"}`)], e.Hash...)
	buf = append(buf, `"}`...)
	return buf[len(e.PrevHash):], nil
}

// seqKey is the store key of record seq: seq zero-padded to 20 digits
// (fmt's %020d, which fits every int64 ≥ 0), so keys sort in chain order.
// It runs for every record appended, hence no fmt.
func seqKey(seq int64) string {
	if seq < 0 {
		return fmt.Sprintf("%020d", seq) // never a stored record
	}
	var b [20]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + seq%10)
		seq /= 10
	}
	return string(b[:])
}

// Append adds e to its account's chain and returns it once it is stored.
// Concurrent appends are committed together (group commit): one
// transaction per batch extends each account's chain under its head's row
// lock, so replicas and requests still form one chain, and every caller
// learns whether its own event was stored.
func (t *Trail) Append(ctx context.Context, e Event) (Event, error) {
	return t.append(ctx, e, "")
}

func (t *Trail) append(ctx context.Context, e Event, intent string) (Event, error) {
	if e.Account == "" || e.Operation == "" || e.Outcome == "" {
		return Event{}, errors.New("audit: event needs account, operation and outcome")
	}
	e.Time = t.stamp(e.Time)
	if err := t.ensureHead(ctx, e.Account); err != nil {
		return Event{}, err
	}
	req := &appendReq{ctx: ctx, event: e, intent: intent, done: make(chan struct{})}
	t.mu.Lock()
	t.queue = append(t.queue, req)
	leader := !t.committing
	if leader {
		t.committing = true
	}
	t.mu.Unlock()
	if leader && t.commitNext() {
		// The first caller commits the batch holding its own event; the
		// others wait for it. Later batches are handed on to one goroutine
		// that commits them back to back until the queue is empty, so no
		// caller's latency grows with the load behind it, and a sustained
		// load costs no goroutine (and no regrown stack) per batch.
		go func() {
			for t.commitNext() {
			}
		}()
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		// The batch may still commit the event; the caller fails closed.
		return Event{}, fmt.Errorf("audit: append: %w", ctx.Err())
	}
	if req.err != nil {
		return Event{}, fmt.Errorf("audit: append: %w", req.err)
	}
	for _, s := range t.sinks {
		_ = s.Write(ctx, req.event) // best effort: the store is the record of truth
	}
	return req.event, nil
}

// stamp is the time an event records: tm, or now when tm is zero, in UTC
// to the microsecond (what both stores keep).
func (t *Trail) stamp(tm time.Time) time.Time {
	if tm.IsZero() {
		tm = t.now()
	}
	return tm.UTC().Truncate(time.Microsecond)
}

type appendReq struct {
	ctx    context.Context
	event  Event
	intent string // key of the KindIntent record the append resolves, if any
	err    error
	done   chan struct{}
}

// maxBatch bounds one group commit.
const maxBatch = 256

// joinYields is how many times the committer yields the processor before
// it takes a batch. Measured with bench/load on 2 cores, a cached vend's
// batches grew from 1.2 to about 3 events per transaction with 8, and its
// throughput by about a fifth (mean of three interleaved runs); 16 and 32
// did no better.
const joinYields = 8

// commitNext commits the oldest queued batch and reports whether events
// queued meanwhile wait for the next one; if not, it ends the commit run.
// Only the one goroutine that holds the run (committing) calls it.
func (t *Trail) commitNext() (more bool) {
	// Let the goroutines that are ready to run go first: under load they
	// include handlers about to append, which then join this batch rather
	// than each paying for a transaction of its own. With nothing else
	// runnable a yield returns at once, so an idle trail waits no longer.
	for range joinYields {
		runtime.Gosched()
	}
	t.mu.Lock()
	n := min(len(t.queue), maxBatch)
	batch := t.queue[:n:n]
	t.queue = t.queue[n:]
	t.mu.Unlock()

	err := t.commit(batch)
	for _, r := range batch {
		r.err = err
		close(r.done)
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queue) == 0 {
		t.committing = false
		return false
	}
	return true
}

// commit stores a batch in one transaction. It runs on behalf of several
// callers, so it is bounded by its own timeout rather than one caller's
// context.
func (t *Trail) commit(batch []*appendReq) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), 30*time.Second)
	defer cancel()
	// Each account's events become one run, in arrival order, and the runs
	// go in account order: replicas whose batches share accounts then take
	// the heads' row locks in the same order, so they queue rather than
	// deadlock. A batch usually holds one account; this sort costs no
	// allocation, unlike grouping through a map.
	slices.SortStableFunc(batch, func(a, b *appendReq) int {
		return strings.Compare(a.event.Account, b.event.Account)
	})
	linked := make([]Event, len(batch))
	recs := make([]store.Record, len(batch))
	var tips []tip // one per account run, in batch order
	err := t.store.InTx(ctx, func(tx store.Tx) error {
		tips = tips[:0] // a re-run starts over
		for i := 0; i < len(batch); {
			j := i + 1
			for j < len(batch) && batch[j].event.Account == batch[i].event.Account {
				j++
			}
			known, ok := t.tips[batch[i].event.Account]
			next, err := extend(ctx, tx, batch[i:j], linked[i:j], recs[i:j], known, ok)
			if err != nil {
				return err
			}
			tips = append(tips, next)
			i = j
		}
		return nil
	})
	if err != nil {
		// The head may have moved or not: read it again next time.
		for _, r := range batch {
			delete(t.tips, r.event.Account)
		}
		return err
	}
	for i, r := range batch {
		r.event = linked[i]
	}
	for i, k := 0, 0; i < len(batch); k++ {
		acct := batch[i].event.Account
		t.tips[acct] = tips[k]
		for i < len(batch) && batch[i].event.Account == acct {
			i++
		}
	}
	return nil
}

// extend appends reqs, all of one account, to that account's chain in tx,
// and returns the new head. It fills linked and recs (as long as reqs)
// with the linked events and their records; a re-run overwrites them.
// With the head this trail last wrote (ok), it swaps the head without
// reading it, falling back to a locked read-and-update if another writer
// moved it.
func extend(ctx context.Context, tx store.Tx, reqs []*appendReq, linked []Event, recs []store.Record, known tip, ok bool) (tip, error) {
	acct := reqs[0].event.Account
	chain := func(h head) (head, []byte, error) {
		for i, r := range reqs {
			e := r.event
			e.Seq, e.PrevHash = h.Seq+1, h.Hash
			data, err := link(&e)
			if err != nil {
				return h, nil, err
			}
			h = head{Seq: e.Seq, Hash: e.Hash}
			linked[i] = e
			recs[i] = store.Record{Kind: KindEvent, Account: acct, Key: seqKey(e.Seq), Data: data}
		}
		data, err := json.Marshal(h)
		return h, data, err
	}
	var next tip
	swapped := false
	switch {
	case ok && known.skip > 0:
		next.skip = known.skip - 1
	case ok:
		h, data, err := chain(known.head)
		if err != nil {
			return tip{}, err
		}
		v, err := tx.Swap(ctx, KindHead, acct, headKey, known.version, data)
		switch {
		case err == nil:
			next, swapped = tip{head: h, version: v}, true
		case errors.Is(err, store.ErrConflict):
			next.skip = swapBackoff
		default:
			return tip{}, err
		}
	}
	if !swapped {
		rec, err := tx.Update(ctx, KindHead, acct, headKey, func(cur store.Record) (store.Record, error) {
			var h head
			if err := json.Unmarshal(cur.Data, &h); err != nil {
				return cur, fmt.Errorf("decode chain head: %w", err)
			}
			h, data, err := chain(h)
			if err != nil {
				return cur, err
			}
			next.head, cur.Data = h, data
			return cur, nil
		})
		if err != nil {
			return tip{}, err
		}
		next.version = rec.Version
	}
	// One CreateMany: on PostgreSQL the head's row lock, which every
	// replica's appends queue on, is then held for a fixed number of round
	// trips whatever the batch size.
	if err := tx.CreateMany(ctx, recs); err != nil {
		return tip{}, err
	}
	for _, r := range reqs {
		if r.intent == "" {
			continue
		}
		// Gone already only if Recover judged the change interrupted,
		// which it does long after any append gives up: then the change
		// has two records rather than none.
		if err := tx.Delete(ctx, KindIntent, acct, r.intent); err != nil && !errors.Is(err, store.ErrNotFound) {
			return tip{}, err
		}
	}
	return next, nil
}

// ensureHead creates an account's chain head on first use; a concurrent
// creator winning the race is fine.
func (t *Trail) ensureHead(ctx context.Context, account string) error {
	if _, ok := t.heads.Load(account); ok {
		return nil
	}
	if _, err := t.store.Get(ctx, KindHead, account, headKey); err == nil {
		t.heads.Store(account, struct{}{})
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	data, _ := json.Marshal(head{Hash: genesis})
	_, err := t.store.Create(ctx, store.Record{Kind: KindHead, Account: account, Key: headKey, Data: data}, store.CreateOptions{})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("audit: create chain head: %w", err)
	}
	t.heads.Store(account, struct{}{})
	return nil
}

// Intent is a change that Begin announced and AppendFor will record.
type Intent struct {
	account, key string
}

// Begin durably notes that the change e describes (Outcome not yet
// known) is about to be made, before it is made. AppendFor then records
// the change and removes the note in one transaction. A change whose
// append never happens (the process was killed between the change and
// its record, or the append failed) leaves its note behind, and Recover
// turns it into a record with OutcomeUnknown: no change goes unrecorded.
// A change must not be made when Begin fails.
func (t *Trail) Begin(ctx context.Context, e Event) (Intent, error) {
	if e.Account == "" || e.Operation == "" {
		return Intent{}, errors.New("audit: intent needs account and operation")
	}
	e.Time = t.stamp(e.Time)
	e.Outcome, e.Seq, e.PrevHash, e.Hash = "", 0, "", ""
	// Time first, so that the keys list in the order changes began.
	key := e.Time.Format("20060102T150405.000000Z") + "-" + uuid.NewString()
	data, err := json.Marshal(e)
	if err != nil {
		return Intent{}, fmt.Errorf("audit: intent: %w", err)
	}
	if _, err := t.store.Create(ctx, store.Record{Kind: KindIntent, Account: e.Account, Key: key, Data: data}, store.CreateOptions{}); err != nil {
		return Intent{}, fmt.Errorf("audit: record intent: %w", err)
	}
	return Intent{account: e.Account, key: key}, nil
}

// AppendFor appends e, the outcome of the change in, as Append does, and
// removes in's note in the same transaction.
func (t *Trail) AppendFor(ctx context.Context, in Intent, e Event) (Event, error) {
	if in.account != e.Account {
		return Event{}, fmt.Errorf("audit: event of account %q for an intent of %q", e.Account, in.account)
	}
	return t.append(ctx, e, in.key)
}

// Recover records, with OutcomeUnknown and ErrorInterrupted, every change
// of account begun before cutoff whose record was never appended, and
// returns how many it recorded. cutoff must lie further back than any
// change and its append can take, so that only abandoned intents are
// taken. Replicas may recover concurrently: each intent is recorded once.
func (t *Trail) Recover(ctx context.Context, account string, cutoff time.Time) (int, error) {
	if err := t.ensureHead(ctx, account); err != nil {
		return 0, err
	}
	n := 0
	err := t.walk(ctx, KindIntent, account, "", func(rec store.Record) (bool, error) {
		var e Event
		if err := json.Unmarshal(rec.Data, &e); err != nil {
			return false, fmt.Errorf("decode intent %s: %w", rec.Key, err)
		}
		if !e.Time.Before(cutoff) {
			return false, nil // keys sort by begin time
		}
		e.Outcome, e.ErrorCode = OutcomeUnknown, ErrorInterrupted
		err := t.store.InTx(ctx, func(tx store.Tx) error {
			// The head first, as appends lock it before the intents
			// they resolve; then whoever deletes the intent records
			// it, and a recoverer that finds it gone rolls back.
			if _, err := extend(ctx, tx, []*appendReq{{event: e}}, make([]Event, 1), make([]store.Record, 1), tip{}, false); err != nil {
				return err
			}
			return tx.Delete(ctx, KindIntent, account, rec.Key)
		})
		switch {
		case err == nil:
			n++
		case !errors.Is(err, store.ErrNotFound):
			return false, err
		}
		return true, nil
	})
	if err != nil {
		return n, fmt.Errorf("audit: recover: %w", err)
	}
	return n, nil
}

// walk calls fn with each live record of kind in account whose key
// follows after, in key order, a page at a time, until fn returns false
// or an error (which walk returns).
func (t *Trail) walk(ctx context.Context, kind, account, after string, fn func(store.Record) (bool, error)) error {
	for {
		page, err := t.store.List(ctx, kind, account, store.ListOptions{After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, rec := range page.Records {
			if more, err := fn(rec); err != nil || !more {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// Filter selects events for Lookup. Zero fields match everything.
type Filter struct {
	Start, End time.Time // End exclusive
	Workload   string
	User       string
	Provider   string
	Operation  string
	Outcome    string
}

func (f Filter) match(e Event) bool {
	return (f.Start.IsZero() || !e.Time.Before(f.Start)) &&
		(f.End.IsZero() || e.Time.Before(f.End)) &&
		(f.Workload == "" || e.Workload == f.Workload) &&
		(f.User == "" || e.User == f.User) &&
		(f.Provider == "" || e.Provider == f.Provider) &&
		(f.Operation == "" || e.Operation == f.Operation) &&
		(f.Outcome == "" || e.Outcome == f.Outcome)
}

// Lookup returns up to limit matching events after sequence number after,
// oldest first, and the sequence number to continue from (0 when done).
func (t *Trail) Lookup(ctx context.Context, account string, f Filter, after int64, limit int) ([]Event, int64, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []Event
	var next int64
	cursor := ""
	if after > 0 {
		cursor = seqKey(after)
	}
	err := t.walk(ctx, KindEvent, account, cursor, func(rec store.Record) (bool, error) {
		var e Event
		if err := json.Unmarshal(rec.Data, &e); err != nil {
			return false, fmt.Errorf("decode event %s: %w", rec.Key, err)
		}
		if f.match(e) {
			out = append(out, e)
			if len(out) == limit {
				next = e.Seq
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("audit: lookup: %w", err)
	}
	return out, next, nil
}

// Report is the result of Verify.
type Report struct {
	Events int64
	// BrokenAt is the first sequence number whose record does not chain
	// (0 when the chain is intact); Reason says what is wrong.
	BrokenAt int64
	Reason   string
}

// OK reports an intact chain.
func (r Report) OK() bool { return r.BrokenAt == 0 }

// Verify walks an account's chain from the start and checks every link,
// every hash, that sequence numbers have no gaps, and that the head points
// at the last record.
func (t *Trail) Verify(ctx context.Context, account string) (Report, error) {
	var rep Report
	prev := genesis
	var seq int64
	fail := func(at int64, format string, args ...any) (Report, error) {
		rep.BrokenAt, rep.Reason = at, fmt.Sprintf(format, args...)
		return rep, nil
	}
	// broken stops the walk at record seq, which does not chain.
	broken := func(format string, args ...any) (bool, error) {
		rep.BrokenAt, rep.Reason = seq, fmt.Sprintf(format, args...)
		return false, nil
	}
	err := t.walk(ctx, KindEvent, account, "", func(rec store.Record) (bool, error) {
		seq++
		var e Event
		if err := json.Unmarshal(rec.Data, &e); err != nil {
			return broken("record %s does not decode", rec.Key)
		}
		if rec.Key != seqKey(seq) || e.Seq != seq {
			return broken("expected record %d, found %s (seq %d): a record is missing or moved", seq, rec.Key, e.Seq)
		}
		if e.PrevHash != prev {
			return broken("record %d does not link to record %d", seq, seq-1)
		}
		want, err := digest(e)
		if err != nil {
			return false, err
		}
		if want != e.Hash {
			return broken("record %d was modified (hash mismatch)", seq)
		}
		prev = e.Hash
		rep.Events = seq
		return true, nil
	})
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	if !rep.OK() {
		return rep, nil
	}
	rec, err := t.store.Get(ctx, KindHead, account, headKey)
	if errors.Is(err, store.ErrNotFound) {
		if seq == 0 {
			return rep, nil
		}
		return fail(seq, "chain head is missing")
	}
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	var h head
	if err := json.Unmarshal(rec.Data, &h); err != nil {
		return fail(seq, "chain head does not decode")
	}
	if h.Seq != seq || h.Hash != prev {
		return fail(seq+1, "chain head is at %s, records end at %d: records were removed from the end", strconv.FormatInt(h.Seq, 10), seq)
	}
	return rep, nil
}
