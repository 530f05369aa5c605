package metrics

import (
	"context"
	"errors"
	"testing"
	"time"
)

// vaultGauge gathers the registry and returns the vault gauge by kind and
// the error counter.
func vaultGauge(t *testing.T, m *Metrics) (map[string]float64, float64) {
	t.Helper()
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	kinds, errs := map[string]float64{}, 0.0
	for _, f := range families {
		switch f.GetName() {
		case "agentcore_token_vault_records":
			for _, mt := range f.GetMetric() {
				kinds[mt.GetLabel()[0].GetValue()] = mt.GetGauge().GetValue()
			}
		case "agentcore_token_vault_count_errors_total":
			errs = f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return kinds, errs
}

func TestVaultGauge(t *testing.T) {
	m := New()
	now := time.Unix(1_700_000_000, 0)
	var (
		calls    int
		next     = map[string]int{"oauth2-m2m-token": 1}
		failNext error
		deadline time.Duration
	)
	if err := m.WatchVault(func(ctx context.Context) (map[string]int, error) {
		calls++
		d, _ := ctx.Deadline()
		deadline = time.Until(d)
		if failNext != nil {
			return nil, failNext
		}
		return next, nil
	}, VaultOptions{TTL: 10 * time.Second, Timeout: time.Second, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name      string
		advance   time.Duration
		set       map[string]int
		fail      error
		wantCalls int
		wantM2M   float64
		wantErrs  float64
	}{
		{name: "ok/first scrape counts", wantCalls: 1, wantM2M: 1},
		{name: "ok/within the TTL the count is cached", advance: 5 * time.Second, set: map[string]int{"oauth2-m2m-token": 7}, wantCalls: 1, wantM2M: 1},
		{name: "ok/after the TTL it counts again", advance: 5 * time.Second, wantCalls: 2, wantM2M: 7},
		{name: "fail/a failed count serves the last one", advance: 11 * time.Second, fail: errors.New("store down"), wantCalls: 3, wantM2M: 7, wantErrs: 1},
		{name: "fail/a failed count is not retried within the TTL", advance: time.Second, wantCalls: 3, wantM2M: 7, wantErrs: 1},
		{name: "ok/recovers", advance: 10 * time.Second, set: map[string]int{"oauth2-m2m-token": 2}, wantCalls: 4, wantM2M: 2, wantErrs: 1},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if s.set != nil {
			next = s.set
		}
		failNext = s.fail
		kinds, errs := vaultGauge(t, m)
		if calls != s.wantCalls || kinds["oauth2-m2m-token"] != s.wantM2M || errs != s.wantErrs {
			t.Fatalf("%s: calls=%d gauge=%v errors=%v; want calls=%d m2m=%v errors=%v", s.name, calls, kinds, errs, s.wantCalls, s.wantM2M, s.wantErrs)
		}
	}
	if deadline <= 0 || deadline > time.Second {
		t.Errorf("count ran with %v left, want the 1s timeout", deadline)
	}
}

func TestVaultGaugeBeforeFirstGoodCount(t *testing.T) {
	m := New()
	if err := m.WatchVault(func(context.Context) (map[string]int, error) { return nil, errors.New("down") }, VaultOptions{}); err != nil {
		t.Fatal(err)
	}
	kinds, errs := vaultGauge(t, m)
	if len(kinds) != 0 || errs != 1 {
		t.Fatalf("gauge=%v errors=%v; want no series and one error", kinds, errs)
	}
}
