package cluster

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

// drainDelay is the replicas' --drain-delay in the rolling restart: ten
// health-check intervals of the balancer.
const drainDelay = time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// warmUp waits until every kind of traffic has gone through.
func warmUp(t *testing.T, l *load) {
	t.Helper()
	l.waitFor(t, "warm up", 30*time.Second, func(s stats) bool {
		return s.writes >= 30 && s.distinctFlows >= 3 && s.storms >= 1 && s.mints >= 10
	})
}

// checkOutcome is what both tests demand at the end: every acknowledged
// write is readable through every replica, no storm refreshed a token
// twice, the relying party accepted every web identity token, and the
// audit chain on the database verifies and covers every write.
func checkOutcome(ctx context.Context, t *testing.T, c *cluster, w *world, l *load) {
	t.Helper()
	for _, v := range l.violations() {
		t.Error(v)
	}
	s := l.snapshot()
	if got := w.stormIdP.TokenCalls(oidctest.GrantRefreshToken); got != int(s.storms)*stormUsers {
		t.Errorf("the provider saw %d refresh grants for %d storms of %d expired tokens: want exactly one per expired token",
			got, s.storms, stormUsers)
	}
	if got := w.flowIdP.TokenCalls(oidctest.GrantRefreshToken); got != 0 {
		t.Errorf("3LO flows refreshed %d times; their tokens never expire during the test", got)
	}
	l.verifyWrites(ctx, t)
	l.mu.Lock()
	writes := len(l.providers) + len(l.workloads)
	l.mu.Unlock()
	if n := c.auditVerify(ctx, t); n < writes {
		t.Errorf("audit chain holds %d records for %d acknowledged writes", n, writes)
	} else {
		t.Logf("audit chain intact: %d records", n)
	}
	t.Logf("load: %+v; 3LO flows restarted after a cut: %d; requests cut mid-flight (502): %d; served per replica: %v",
		s, l.interrupted.Load(), c.lb.cut.Load(), c.lb.served())
}

// TestThreeReplicasFailover runs three replicas on one PostgreSQL database
// behind a balancer, SIGKILLs one under mixed load, restarts it, and
// checks that nothing acknowledged was lost, that no token was refreshed
// twice, and that clients saw only errors they could retry.
func TestThreeReplicasFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three server processes")
	}
	ctx := testContext(t)
	c := startCluster(ctx, t, 3, 0)
	w := newWorld(ctx, t, c)
	l := w.startLoad(ctx, t)
	warmUp(t, l)

	// Kill a replica without warning (between two refresh storms: a
	// refresh token redeemed by a process that dies before storing the
	// rotated one is lost with it, which no replication can prevent).
	const victimIndex = 1
	victim := c.replicas[victimIndex]
	var exit error
	l.exclusive(func() {
		victim.send(t, syscall.SIGKILL)
		exit = victim.wait(t, 10*time.Second)
	})
	var ee *exec.ExitError
	if !errors.As(exit, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s exited with %v, want killed by SIGKILL", victim.name, exit)
	}
	down := l.snapshot()
	l.waitFor(t, "serve on two replicas", 30*time.Second, func(s stats) bool {
		return s.writes >= down.writes+20 && s.flows >= down.flows+2 && s.mints >= down.mints+10
	})
	if slices.Contains(c.lb.healthyIndexes(), victimIndex) {
		t.Fatalf("the balancer still routes to the killed %s", victim.name)
	}

	// Restart it with the same flags; it rejoins and takes traffic.
	if err := victim.start(ctx, c.bin); err != nil {
		t.Fatal(err)
	}
	c.lb.waitHealthy(t, 3)
	servedAtRestart := c.lb.served()
	up := l.snapshot()
	l.waitFor(t, "serve on three replicas again", time.Minute, func(s stats) bool {
		return s.writes >= up.writes+30 && s.distinctFlows >= up.distinctFlows+3 && s.storms >= up.storms+2 && s.mints >= up.mints+10
	})
	l.stop()
	for i, n := range c.lb.served() {
		if n == servedAtRestart[i] {
			t.Errorf("%s served nothing through the balancer after the restart", c.replicas[i].name)
		}
	}

	errs := l.errors()
	for _, e := range errs {
		if !retryable(e.err) {
			t.Errorf("%s: a client saw an error it cannot retry: %v", e.op, e.err)
		} else {
			t.Logf("retryable error seen during the failover: %s", e)
		}
	}
	checkOutcome(ctx, t, c, w, l)
}

// TestRollingRestartZeroErrors restarts the three replicas one at a time
// with SIGTERM under mixed load. Each drains first (/readyz answers 503
// while it keeps serving), so the balancer takes it out of rotation
// before it closes: clients must see no error at all, and no request may
// be cut.
func TestRollingRestartZeroErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three server processes")
	}
	ctx := testContext(t)
	c := startCluster(ctx, t, 3, drainDelay)
	w := newWorld(ctx, t, c)
	l := w.startLoad(ctx, t)
	warmUp(t, l)

	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i, r := range c.replicas {
		before := l.snapshot()
		r.send(t, syscall.SIGTERM)
		signalled := time.Now()
		waitDraining(ctx, t, probe, r)
		for deadline := time.Now().Add(5 * healthInterval); c.lb.backends[i].healthy.Load(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the balancer kept %s in rotation while it drained", r.name)
			}
		}
		if err := r.wait(t, drainDelay+20*time.Second); err != nil {
			t.Fatalf("%s exited with %v after SIGTERM, want 0", r.name, err)
		}
		if took := time.Since(signalled); took < drainDelay {
			t.Errorf("%s exited %s after SIGTERM, before its drain delay of %s", r.name, took, drainDelay)
		}
		if err := r.start(ctx, c.bin); err != nil {
			t.Fatal(err)
		}
		c.lb.waitHealthy(t, 3)
		l.waitFor(t, "progress after restarting "+r.name, 30*time.Second, func(s stats) bool {
			return s.writes >= before.writes+20 && s.mints >= before.mints+10 && s.flows >= before.flows+2
		})
	}
	after := l.snapshot()
	l.waitFor(t, "a storm after the rolling restart", 30*time.Second, func(s stats) bool { return s.storms >= after.storms+1 })
	l.stop()

	for _, e := range l.errors() {
		t.Errorf("%s: a client saw an error during the rolling restart: %v", e.op, e.err)
	}
	if n := c.lb.cut.Load(); n != 0 {
		t.Errorf("%d requests were cut mid-flight by a restarting replica; the last: %v", n, c.lb.lastCut.Load())
	}
	l.mu.Lock()
	if len(l.ambiguous) != 0 {
		t.Errorf("%d creates were retried after a cut: %v", len(l.ambiguous), l.ambiguous)
	}
	l.mu.Unlock()
	checkOutcome(ctx, t, c, w, l)
}

// waitDraining polls r's /readyz until it reports draining, which must
// happen while r still answers.
func waitDraining(ctx context.Context, t *testing.T, probe *http.Client, r *replica) {
	t.Helper()
	for deadline := time.Now().Add(drainDelay / 2); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url()+"/readyz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := probe.Do(req)
		if err != nil {
			t.Fatalf("%s stopped answering before its drain delay: %v", r.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && string(body) == "draining\n" {
			return
		}
	}
	t.Fatalf("%s never reported draining on /readyz after SIGTERM", r.name)
}
