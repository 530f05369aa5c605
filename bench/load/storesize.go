package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/agentcore-identity/agentcore/bench/internal/loadgen"
	"github.com/agentcore-identity/agentcore/bench/internal/target"
	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
)

// fillBatch is the number of records per fill transaction: large enough
// that commits do not dominate, small enough that SQLite's WAL stays small.
const fillBatch = 5000

// tokenDoc has the shape and size of the vault's user token records
// (tokenvault's userTokenDoc), so filled rows weigh what real ones do.
type tokenDoc struct {
	Workload    string    `json:"workload"`
	UserID      string    `json:"userId"`
	Provider    string    `json:"provider"`
	ProviderGen string    `json:"providerGen"`
	Scopes      []string  `json:"scopes"`
	Granted     []string  `json:"granted"`
	ObtainedAt  time.Time `json:"obtainedAt"`
	Expiry      time.Time `json:"expiry"`
	HasRefresh  bool      `json:"hasRefresh"`
	Sealed      []byte    `json:"tokensSealed"`
}

// tokenRecord is the i-th filler record: a user token of user i at one
// provider, addressed like the vault addresses them (account|hash(user)|
// provider, workload|hash(scopes)), so keys spread over the index as real
// users do.
func tokenRecord(account string, i int, sealed []byte) (store.Record, error) {
	user := fillUser(i)
	acct, key := tokenAddress(account, i)
	now := time.Now().UTC()
	data, err := json.Marshal(tokenDoc{
		Workload: "bench-agent", UserID: user, Provider: "bench-provider", ProviderGen: "5d2b1b6c-a5ce-4c38-82b1-be358ca60657",
		Scopes: []string{"read", "write"}, Granted: []string{"read", "write", "offline_access"},
		ObtainedAt: now, Expiry: now.Add(time.Hour), HasRefresh: true, Sealed: sealed,
	})
	if err != nil {
		return store.Record{}, err
	}
	return store.Record{
		Kind: tokenvault.UserTokenKind, Account: acct, Key: key, Data: data,
	}, nil
}

// tokenAddress is the store address of filler user i's token record.
func tokenAddress(account string, i int) (acct, key string) {
	uh := sha256.Sum256([]byte(fillUser(i)))
	return account + "|" + hex.EncodeToString(uh[:]) + "|bench-provider", "bench-agent|" + hex.EncodeToString(uh[:16])
}

// tokenRead reads the token record of a random one of users from st, as
// the vault does on a read-cache miss.
func tokenRead(st store.Store, account string, users []int32) loadgen.Op {
	return func(ctx context.Context, _ int) error {
		acct, key := tokenAddress(account, int(users[mrand.IntN(len(users))]))
		_, err := st.Get(ctx, tokenvault.UserTokenKind, acct, key)
		return err
	}
}

func fillUser(i int) string { return "user-" + strconv.Itoa(i) + "@example.com" }

// fillOrder returns the users 0..n-1 in the order of their records'
// addresses. Real records arrive in random address order; inserting them
// sorted builds the same index (denser pages, same depth) about twice as
// fast, which matters at a million rows.
func fillOrder(n int) []int32 {
	type entry struct {
		prefix uint64
		user   int32
	}
	es := make([]entry, n)
	for i := range es {
		sum := sha256.Sum256([]byte(fillUser(i)))
		es[i] = entry{binary.BigEndian.Uint64(sum[:8]), int32(i)}
	}
	slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(a.prefix, b.prefix) })
	order := make([]int32, n)
	for i, e := range es {
		order[i] = e.user
	}
	return order
}

// fill inserts the filler records of users order[from:to] with
// store.Create, fillBatch per transaction, on workers concurrent
// transactions (1 for SQLite, which has a single writer anyway).
func (b *bench) fill(ctx context.Context, st store.Store, account string, order []int32, from, to, workers int) error {
	if from >= to {
		return nil
	}
	sealed := make([]byte, 280) // a sealed access and refresh token
	_, _ = rand.Read(sealed)
	starts := make(chan int)
	errs := make(chan error, workers)
	var mu sync.Mutex
	done, began := 0, time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for lo := range starts {
				hi := min(lo+fillBatch, to)
				recs := make([]store.Record, 0, hi-lo)
				for _, user := range order[lo:hi] {
					rec, err := tokenRecord(account, int(user), sealed)
					if err != nil {
						errs <- err
						return
					}
					recs = append(recs, rec)
				}
				err := st.InTx(ctx, func(tx store.Tx) error {
					for _, r := range recs {
						if _, err := tx.Create(ctx, r, store.CreateOptions{}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("fill rows %d..%d: %w", lo, hi, err)
					return
				}
				mu.Lock()
				before := done
				done += hi - lo
				if done/100_000 != before/100_000 || from+done == to {
					b.log.Printf("filled %d of %d token records (%.0f rows/s)", from+done, to, float64(done)/time.Since(began).Seconds())
				}
				mu.Unlock()
			}
		})
	}
	var err error
feed:
	for lo := from; lo < to; lo += fillBatch {
		select {
		case starts <- lo:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(starts)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	return err
}

// vaultReadTitle names the store-size rows of the vault read.
const vaultReadTitle = "vault read on a cache miss: store.Get of a random stored token (in-process)"

// sizeOps are what the store-size scenario measures, in report order.
func sizeOps() []*sizeOp {
	return []*sizeOp{{title: "GetResourceApiKey (cached vend)"}, {title: "GetResourceOauth2Token M2M (cached vend)"},
		{title: vaultReadTitle, read: true}}
}

// sizeOp is a vend, or a component of one, measured at each store size.
type sizeOp struct {
	title string
	req   *loadgen.Request
	read  bool // a vault read straight from the store (tokenRead), not req
	na    string
	rows  []loadgen.Row
}

// storeSize measures vend latency with smallRows and with rows stored
// tokens, on a fresh server so that earlier scenarios' audit events do not
// pad the store. The vend path reads its records by primary key, so the
// store's size should only show through the index depth. A cached vend
// finds its token in the read cache, so the vault read it makes on a miss
// is measured too, on the store itself, over all the stored tokens.
func (b *bench) storeSize(ctx context.Context, e *target.Env) error {
	b.log.Printf("== store size: %d vs %d token records", b.o.smallRows, b.o.rows)
	s := b.newSite(e)
	defer s.close()
	ops := sizeOps()
	var err error
	if ops[0].req, err = s.apiKeyRequest(ctx); err == nil {
		_, err = s.probe(ctx, ops[0].req)
	}
	if err != nil {
		ops[0].na = naReason(err)
	}
	if ops[1].req, _, err = s.m2mRequest(ctx); err != nil {
		ops[1].na = naReason(err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	workers := 1
	if b.o.store == config.StorePostgres {
		workers = 8 // each Create is a round trip; overlap them
	}
	order := fillOrder(b.o.rows)
	filled := 0
	for _, n := range []int{b.o.smallRows, b.o.rows} {
		began := time.Now()
		if err := b.fill(ctx, e.Store, e.Account, order, filled, n, workers); err != nil {
			return err
		}
		b.log.Printf("store holds %d token records (filled in %v)", n, time.Since(began).Round(time.Millisecond))
		filled = n
		for _, op := range ops {
			row := loadgen.Row{Scenario: op.title, Variant: thousands(n)}
			if op.read && n == 0 {
				row.NA = "no stored tokens to read"
				op.rows = append(op.rows, row)
				continue
			}
			if op.na != "" {
				row.NA = op.na
				op.rows = append(op.rows, row)
				continue
			}
			run := request(s.conns, op.req)
			if op.read {
				run = tokenRead(e.Store, e.Account, order[:n])
			}
			res, err := b.bestOf(ctx, op.title+" / "+thousands(n)+" tokens", b.o.sizeRepeats, b.closed(b.o.sizeWorkers), run)
			if err != nil {
				return err
			}
			row.Result = res
			if len(op.rows) > 0 && op.rows[0].Result != nil {
				row.Ratio = loadgen.Ratio(float64(res.Latency.P50), float64(op.rows[0].Result.Latency.P50))
			}
			op.rows = append(op.rows, row)
		}
	}
	for _, op := range ops {
		b.rep.StoreSize = append(b.rep.StoreSize, op.rows...)
		if !op.read { // the target is about vends; the read is a part of one
			b.sizeTarget(op.title, op.rows)
		}
	}
	return nil
}

// bestOf splits cfg's window into n runs (the warm-up only before the
// first) and returns the one with the lowest p50. Two store sizes are
// measured minutes apart; on a shared machine a burst of other work
// during one of them would otherwise decide the comparison.
func (b *bench) bestOf(ctx context.Context, label string, n int, cfg loadgen.Config, op loadgen.Op) (*loadgen.Result, error) {
	cfg.Duration /= time.Duration(n)
	var best *loadgen.Result
	for i := range n {
		res, err := b.measure(ctx, fmt.Sprintf("%s (%d of %d)", label, i+1, n), cfg, op)
		if err != nil {
			return nil, err
		}
		if best == nil || res.Latency.P50 < best.Latency.P50 {
			best = res
		}
		cfg.Warmup = 0
	}
	return best, nil
}

// sizeTarget checks that the large store's p50 is within 1.5× the small
// one's.
func (b *bench) sizeTarget(title string, rows []loadgen.Row) {
	name := fmt.Sprintf("vend p50 with %s vs %s tokens: %s", thousands(b.o.rows), thousands(b.o.smallRows), title)
	const goal = "≤ 1.50×"
	if len(rows) < 2 || rows[0].Result == nil || rows[1].Result == nil {
		reason := "not measured"
		if len(rows) > 0 && rows[0].NA != "" {
			reason = rows[0].NA
		}
		b.target(name, goal, "n/a ("+reason+")", loadgen.NA)
		return
	}
	small, large := rows[0].Result.Latency, rows[1].Result.Latency
	p99 := loadgen.Ratio(float64(large.P99), float64(small.P99))
	b.target(name, goal, fmt.Sprintf("%.2f× (%s vs %s; p99 %.2f×)%s", rows[1].Ratio, loadgen.Ms(large.P50), loadgen.Ms(small.P50), p99,
		busy(rows[0].Result, rows[1].Result)),
		loadgen.AtMost(rows[1].Ratio, 1.5))
}

// storeSizeNA reports the scenario as impossible (external servers: the
// harness fills the store directly).
func (b *bench) storeSizeNA(reason string) {
	for _, op := range sizeOps() {
		row := loadgen.Row{Scenario: op.title, Variant: thousands(b.o.rows), NA: reason}
		b.rep.StoreSize = append(b.rep.StoreSize, row)
		if !op.read { // as in storeSize
			b.sizeTarget(op.title, []loadgen.Row{row})
		}
	}
}

// thousands formats n with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
