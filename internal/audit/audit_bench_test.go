package audit

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
)

// txCounter counts transactions, so that a benchmark can report how many
// events each group commit carried: ns/op falls as batches grow, and a
// change that only shifts the batch size would otherwise look like a win.
type txCounter struct {
	store.Store
	n atomic.Int64
}

func (c *txCounter) InTx(ctx context.Context, fn func(store.Tx) error) error {
	c.n.Add(1)
	return c.Store.InTx(ctx, fn)
}

func benchTrail(b *testing.B) (*Trail, *txCounter) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: b.TempDir() + "/a.db"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	c := &txCounter{Store: st}
	tr := NewTrail(c, nil)
	if _, err := tr.Append(ctx, event("Warm", "w")); err != nil {
		b.Fatal(err)
	}
	return tr, c
}

// cpuTime is the CPU time this process has used so far. Reported per op
// it is the cost the goal is about, and it is steadier than ns/op on a
// shared machine, where ns/op also counts waiting for a core.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-since)/float64(b.N), "cpu-ns/op")
}

func vendEvent() Event {
	e := event("GetResourceApiKey", "agent-1")
	e.User, e.Provider, e.RequestID, e.SourceIP = "alice", "github", "3f1c2a9e-7d7b-4d3e-9d1e-2b8f6b0c4a11", "127.0.0.1"
	return e
}

// BenchmarkAppendParallel measures the group-committed append that every
// credential vend waits for, on the embedded store.
func BenchmarkAppendParallel(b *testing.B) {
	ctx := context.Background()
	tr, txs := benchTrail(b)
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := txs.n.Load(), cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tr.Append(ctx, vendEvent()); err != nil {
				b.Fatal(err)
			}
		}
	})
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/float64(txs.n.Load()-start), "events/tx")
}

// BenchmarkAppendSerial is one caller at a time: every append is a batch
// of one, so it prices the per-transaction path without batching.
func BenchmarkAppendSerial(b *testing.B) {
	ctx := context.Background()
	tr, _ := benchTrail(b)
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		if _, err := tr.Append(ctx, vendEvent()); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkCommitBatch8 commits batches of eight events directly, without
// the handoff between callers, so its per-event cost does not depend on
// how the scheduler happened to form batches.
func BenchmarkCommitBatch8(b *testing.B) {
	const size = 8
	ctx := context.Background()
	tr, _ := benchTrail(b)
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		batch := make([]*appendReq, size)
		for i := range batch {
			e := vendEvent()
			e.Time = time.Now().UTC().Truncate(time.Microsecond)
			batch[i] = &appendReq{ctx: ctx, event: e}
		}
		if err := tr.commit(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N*size), "ns/event")
	reportCPU(b, cpu)
}

func BenchmarkLink(b *testing.B) {
	e := vendEvent()
	e.Seq, e.Time, e.PrevHash = 1234, time.Now().UTC().Truncate(time.Microsecond), genesis
	b.ReportAllocs()
	for b.Loop() {
		if _, err := link(&e); err != nil {
			b.Fatal(err)
		}
	}
}
