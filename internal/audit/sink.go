package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// FileSink appends each event as one JSON line to a file (mode 0600), for
// shipping to a log pipeline. The store stays the record of truth.
type FileSink struct {
	mu sync.Mutex
	f  *os.File
}

// OpenFileSink opens (or creates) path for appending.
func OpenFileSink(path string) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open sink: %w", err)
	}
	return &FileSink{f: f}, nil
}

// Write appends e as a JSON line.
func (s *FileSink) Write(_ context.Context, e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.f.Write(append(b, '\n'))
	return err
}

// Close closes the file.
func (s *FileSink) Close() error { return s.f.Close() }
