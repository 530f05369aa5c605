package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

// Shape of the load.
const (
	writers      = 2
	writePause   = 25 * time.Millisecond
	flowWorkers  = 2
	stormUsers   = 3
	stormCallers = 12 // concurrent GetResourceOauth2Token per user and storm
	mintPause    = 20 * time.Millisecond
	callTimeout  = 45 * time.Second
	stormSlack   = 300 * time.Millisecond
	maxCollected = 200
)

// loadErr is an error a client saw after the SDK's retries.
type loadErr struct {
	op  string
	err error
}

func (e loadErr) String() string { return e.op + ": " + e.err.Error() }

// stats are counters a test waits on.
type stats struct {
	writes, flows, distinctFlows, storms, mints int64
}

// load is the mixed traffic of a test: control-plane writes with vends of
// what was written, 3LO flows across replicas, refresh storms and web
// identity tokens checked by a relying party.
type load struct {
	w    *world
	ctx  context.Context
	halt context.CancelFunc
	wg   sync.WaitGroup

	// stormMu is held during each refresh storm; exclusive takes it to
	// keep a disruption out of the middle of one.
	stormMu sync.Mutex

	writes, flows, distinctFlows, storms, mints, interrupted atomic.Int64

	mu        sync.Mutex
	providers map[string]string // API-key provider -> key, acknowledged
	workloads map[string]bool   // workload identities, acknowledged
	ambiguous map[string]string // retried creates refused as duplicates: the first attempt committed?
	errs      []loadErr         // every error a client saw
	broken    []string          // invariant violations (wrong data, double refresh)
}

// startLoad prepares the storm users and starts every worker.
func (w *world) startLoad(ctx context.Context, t *testing.T) *load {
	t.Helper()
	users := w.stormSetup(ctx, t)
	lctx, halt := context.WithCancel(ctx)
	l := &load{w: w, ctx: lctx, halt: halt, providers: map[string]string{}, workloads: map[string]bool{}, ambiguous: map[string]string{}}
	t.Cleanup(l.stop)
	for i := range writers {
		l.wg.Go(func() { l.write(i) })
	}
	for i := range flowWorkers {
		l.wg.Go(func() { l.flow(i) })
	}
	l.wg.Go(func() { l.stormLoop(users) })
	l.wg.Go(l.mint)
	return l
}

// stop ends the load and waits for its workers.
func (l *load) stop() {
	l.halt()
	l.wg.Wait()
}

func (l *load) snapshot() stats {
	return stats{writes: l.writes.Load(), flows: l.flows.Load(), distinctFlows: l.distinctFlows.Load(),
		storms: l.storms.Load(), mints: l.mints.Load()}
}

// waitFor waits until done(current stats) holds. It fails after limit,
// or at once when the load found an invariant broken.
func (l *load) waitFor(t *testing.T, what string, limit time.Duration, done func(stats) bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(50 * time.Millisecond) {
		s := l.snapshot()
		if done(s) {
			return
		}
		if broken := l.violations(); len(broken) > 0 {
			t.Fatalf("waiting to %s: %s", what, summary(broken))
		}
		if time.Now().After(deadline) {
			var errs []string
			for _, e := range l.errors() {
				errs = append(errs, e.String())
			}
			t.Fatalf("load made no progress to %s within %s: %+v; errors: %s", what, limit, s, summary(errs))
		}
	}
}

// summary is the first few of many messages.
func summary(msgs []string) string {
	const shown = 5
	if len(msgs) > shown {
		return fmt.Sprintf("%s; … and %d more", strings.Join(msgs[:shown], "; "), len(msgs)-shown)
	}
	return strings.Join(msgs, "; ")
}

// exclusive runs fn between two refresh storms.
func (l *load) exclusive(fn func()) {
	l.stormMu.Lock()
	defer l.stormMu.Unlock()
	fn()
}

// failed records an error a client saw; a stopped load's own
// cancellation is not one.
func (l *load) failed(op string, err error) {
	if l.ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < maxCollected {
		l.errs = append(l.errs, loadErr{op: op, err: err})
	}
}

func (l *load) breaks(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.broken) < maxCollected {
		l.broken = append(l.broken, fmt.Sprintf(format, args...))
	}
}

func (l *load) errors() []loadErr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]loadErr(nil), l.errs...)
}

func (l *load) violations() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.broken...)
}

func (l *load) pause(d time.Duration) bool {
	select {
	case <-l.ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (l *load) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(l.ctx, callTimeout)
}

// write creates API-key providers and workload identities through the
// balancer, records those acknowledged, and vends each new key at once
// (sealed by one replica, opened by whichever the balancer picks).
func (l *load) write(worker int) {
	for i := 0; l.ctx.Err() == nil; i++ {
		name := fmt.Sprintf("ak-%d-%d", worker, i)
		key := fmt.Sprintf("key-%d-%d-%d", worker, i, time.Now().UnixNano())
		ctx, cancel := l.call()
		actx, attempts := withAttempts(ctx)
		_, err := l.w.ctrl.CreateApiKeyCredentialProvider(actx, &cp.CreateApiKeyCredentialProviderInput{Name: aws.String(name), ApiKey: aws.String(key)})
		var conflict *cptypes.ConflictException
		switch {
		case err == nil:
			l.mu.Lock()
			l.providers[name] = key
			l.mu.Unlock()
			l.writes.Add(1)
			if out, err := l.w.data.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
				WorkloadIdentityToken: l.w.agentWAT, ResourceCredentialProviderName: aws.String(name)}); err != nil {
				l.failed("GetResourceApiKey", err)
			} else if aws.ToString(out.ApiKey) != key {
				l.breaks("provider %s vended a key other than the one written", name)
			}
		case errors.As(err, &conflict) && attempts.Load() > 1:
			// At-least-once: an attempt cut off after its commit was
			// retried. Checked at the end: the key must be ours.
			l.mu.Lock()
			l.ambiguous[name] = key
			l.mu.Unlock()
		default:
			l.failed("CreateApiKeyCredentialProvider", err)
		}
		if i%2 == 0 {
			wname := fmt.Sprintf("wi-%d-%d", worker, i)
			actx, attempts := withAttempts(ctx)
			_, err := l.w.ctrl.CreateWorkloadIdentity(actx, &cp.CreateWorkloadIdentityInput{Name: aws.String(wname)})
			switch {
			case err == nil:
				l.mu.Lock()
				l.workloads[wname] = true
				l.mu.Unlock()
				l.writes.Add(1)
			case errors.As(err, &conflict) && attempts.Load() > 1:
				l.mu.Lock()
				l.ambiguous[wname] = ""
				l.mu.Unlock()
			default:
				l.failed("CreateWorkloadIdentity", err)
			}
		}
		cancel()
		if !l.pause(writePause) {
			return
		}
	}
}

// replicasFor spreads the steps of flow n over the replicas in rotation.
func (l *load) replicasFor(n int) flowReplicas {
	h := l.w.c.lb.healthyIndexes()
	if len(h) == 0 {
		h = []int{0, 1, 2}
	}
	return flowReplicas{start: h[n%len(h)], browser: h[(n+1)%len(h)], complete: h[(n+2)%len(h)]}
}

// flow runs 3LO flows back to back, each for a new user. A flow cut by a
// failing replica is started again, as a user would; the cut is recorded
// like any error a client saw.
func (l *load) flow(worker int) {
	for n := 0; l.ctx.Err() == nil; n++ {
		user := fmt.Sprintf("flow-%d-%d", worker, n)
		ctx, cancel := l.call()
		on := l.replicasFor(n + worker)
		wat, err := l.w.userWAT(ctx, user)
		if err == nil {
			_, err = l.w.consent(ctx, flowProvider, l.w.flowIdP, wat, user, on)
		}
		cancel()
		switch {
		case err == nil:
			l.flows.Add(1)
			if on.distinct() {
				l.distinctFlows.Add(1)
			}
		case l.ctx.Err() != nil:
			return
		default:
			l.interrupted.Add(1)
			l.failed("3LO flow", err)
		}
	}
}

// stormUser is a user with a consented token at the storm provider.
type stormUser struct {
	id    string
	wat   *string
	token string    // the access token last vended
	got   time.Time // when it was vended (no later than the server got it)
}

// stormSetup consents the storm users, each flow across replicas.
func (w *world) stormSetup(ctx context.Context, t *testing.T) []*stormUser {
	t.Helper()
	users := make([]*stormUser, stormUsers)
	for i := range users {
		u := &stormUser{id: fmt.Sprintf("storm-%d", i)}
		var err error
		if u.wat, err = w.userWAT(ctx, u.id); err != nil {
			t.Fatal(err)
		}
		on := flowReplicas{start: i % 3, browser: (i + 1) % 3, complete: (i + 2) % 3}
		if u.token, err = w.consent(ctx, stormProvider, w.stormIdP, u.wat, u.id, on); err != nil {
			t.Fatalf("consent of %s: %v", u.id, err)
		}
		u.got = time.Now()
		users[i] = u
	}
	return users
}

// stormLoop waits until every storm user's token expired, then lets all of
// them ask for it at once, stormCallers calls each spread over every
// replica in rotation: exactly one refresh per user may reach the
// provider, and every caller must get the one refreshed token.
func (l *load) stormLoop(users []*stormUser) {
	idp := l.w.stormIdP
	for l.ctx.Err() == nil {
		var latest time.Time
		for _, u := range users {
			if u.got.After(latest) {
				latest = u.got
			}
		}
		if !l.pause(time.Until(latest.Add(stormTokenLifetime + stormSlack))) {
			return
		}
		l.stormMu.Lock()
		before := idp.TokenCalls(oidctest.GrantRefreshToken)
		var wg sync.WaitGroup
		ok := atomic.Bool{}
		ok.Store(true)
		for _, u := range users {
			wg.Go(func() {
				if !l.storm(u) {
					ok.Store(false)
				}
			})
		}
		wg.Wait()
		refreshes := idp.TokenCalls(oidctest.GrantRefreshToken) - before
		l.stormMu.Unlock()
		for _, u := range users {
			u.got = time.Now() // after a failed storm too: wait a lifetime
		}
		if l.ctx.Err() != nil {
			return
		}
		if refreshes != len(users) {
			l.breaks("storm %d: %d refresh grants at the provider for %d expired tokens", l.storms.Load()+1, refreshes, len(users))
		}
		if ok.Load() {
			l.storms.Add(1)
		}
	}
}

// storm sends stormCallers concurrent requests for u's token and checks
// they all got the same, new one.
func (l *load) storm(u *stormUser) bool {
	h := l.w.c.lb.healthyIndexes()
	tokens := make([]string, stormCallers)
	errs := make([]error, stormCallers)
	var wg sync.WaitGroup
	for i := range stormCallers {
		client := l.w.data // every fourth caller through the balancer
		if i%4 != 3 && len(h) > 0 {
			client = l.w.direct[h[i%len(h)]]
		}
		wg.Go(func() {
			ctx, cancel := l.call()
			defer cancel()
			out, err := client.GetResourceOauth2Token(ctx, l.w.userFed(u.wat, stormProvider, nil))
			switch {
			case err != nil:
				errs[i] = err
			case out.AccessToken == nil:
				errs[i] = fmt.Errorf("no token (authorization URL %v): the refresh failed", out.AuthorizationUrl != nil)
			default:
				tokens[i] = aws.ToString(out.AccessToken)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			if l.ctx.Err() == nil {
				l.failed("refresh storm", err)
			}
			return false
		}
	}
	for _, tok := range tokens[1:] {
		if tok != tokens[0] {
			l.breaks("user %s: callers of one storm got different tokens (more than one refresh)", u.id)
			return false
		}
	}
	if tokens[0] == u.token {
		l.breaks("user %s: the expired token was served again", u.id)
		return false
	}
	ctx, cancel := l.call()
	defer cancel()
	if err := checkToken(ctx, l.w.stormIdP, tokens[0]); err != nil {
		l.breaks("user %s: %v", u.id, err)
		return false
	}
	u.token = tokens[0]
	return true
}

// mint asks for web identity tokens through the balancer and has the
// relying party verify each against the issuer's JWKS.
func (l *load) mint() {
	for i := 0; l.ctx.Err() == nil; i++ {
		alg := []string{"ES384", "RS256"}[i%2]
		ctx, cancel := l.call()
		out, err := l.w.stsc.GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{
			Audience: []string{stsAudience}, SigningAlgorithm: aws.String(alg), DurationSeconds: aws.Int32(300)})
		if err != nil {
			l.failed("GetWebIdentityToken", err)
		} else if _, err := l.w.rp.Verify(ctx, aws.ToString(out.WebIdentityToken)); err != nil {
			l.breaks("relying party rejected a %s web identity token: %v", alg, err)
		} else {
			l.mints.Add(1)
		}
		cancel()
		if !l.pause(mintPause) {
			return
		}
	}
}

// verifyWrites reads back every acknowledged write through each replica
// in turn: the provider's metadata and its key, and every workload.
func (l *load) verifyWrites(ctx context.Context, t *testing.T) {
	t.Helper()
	l.mu.Lock()
	providers, workloads, ambiguous := l.providers, l.workloads, l.ambiguous
	l.mu.Unlock()
	for name, key := range ambiguous {
		if strings.HasPrefix(name, "ak-") {
			providers[name] = key // the retried write must be ours
		} else {
			workloads[name] = true
		}
	}
	type item struct{ name, key string }
	work := make(chan item)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	for g := range 6 {
		wg.Go(func() {
			n := g
			for it := range work {
				r := n % len(l.w.direct)
				n++
				if it.key == "" {
					if _, err := l.w.ctrlOf[r].GetWorkloadIdentity(ctx, &cp.GetWorkloadIdentityInput{Name: aws.String(it.name)}); err != nil {
						fail("acknowledged workload %s via replica %d: %v", it.name, r, err)
					}
					continue
				}
				if _, err := l.w.ctrlOf[r].GetApiKeyCredentialProvider(ctx, &cp.GetApiKeyCredentialProviderInput{Name: aws.String(it.name)}); err != nil {
					fail("acknowledged provider %s via replica %d: %v", it.name, r, err)
					continue
				}
				out, err := l.w.direct[r].GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
					WorkloadIdentityToken: l.w.agentWAT, ResourceCredentialProviderName: aws.String(it.name)})
				if err != nil || aws.ToString(out.ApiKey) != it.key {
					fail("acknowledged provider %s: key unreadable or changed via replica %d: %v", it.name, r, err)
				}
			}
		})
	}
	for name, key := range providers {
		work <- item{name, key}
	}
	for name := range workloads {
		work <- item{name: name}
	}
	close(work)
	wg.Wait()
	for i, f := range failures {
		if i == 20 {
			t.Errorf("… and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
	t.Logf("read back %d API-key providers (with their keys) and %d workload identities through every replica; %d retried creates found committed",
		len(providers), len(workloads), len(ambiguous))
}
