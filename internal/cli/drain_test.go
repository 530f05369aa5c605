package cli

import (
	"context"
	"io"
	"strings"
	"testing"
)

// The drain delay is settable by flag and by environment; a negative one
// is refused before anything starts (which proves the value arrived).
func TestServerDrainDelayFlagAndEnv(t *testing.T) {
	cases := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"fail/flag-negative", "", []string{"--drain-delay", "-1s"}, "drain-delay -1s: must not be negative"},
		{"fail/env-negative", "-2s", nil, "drain-delay -2s: must not be negative"},
		{"fail/env-not-a-duration", "soon", nil, "AGENTCORE_DRAIN_DELAY=\"soon\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("AGENTCORE_DRAIN_DELAY", tc.env)
			}
			var errOut lockedBuffer
			args := append([]string{"server", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"}, tc.args...)
			if code := Execute(context.Background(), args, io.Discard, &errOut); code == 0 || !strings.Contains(errOut.String(), tc.want) {
				t.Fatalf("code %d, output %q; want an error mentioning %q", code, errOut.String(), tc.want)
			}
		})
	}
}
