package servertest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// Metrics returns the Prometheus text exposition the server at base
// serves on /metrics.
func Metrics(ctx context.Context, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read %s/metrics: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s/metrics: HTTP %d", base, resp.StatusCode)
	}
	return string(body), nil
}

// MetricsText is Metrics for a test, which it fails when the scrape does.
func MetricsText(t testing.TB, base string) string {
	t.Helper()
	m, err := Metrics(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
