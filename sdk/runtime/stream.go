package runtime

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
)

// asStream recognises the streaming result types and turns them into one
// shape.
// A channel is read until it is closed or ctx ends.
func asStream(ctx context.Context, res any) (iter.Seq2[any, error], bool) {
	// Unnamed function literals and bidirectional channels count too.
	switch v := res.(type) {
	case chan any:
		res = (<-chan any)(v)
	case func(func(any) bool):
		res = iter.Seq[any](v)
	case func(func(any, error) bool):
		res = iter.Seq2[any, error](v)
	}
	switch s := res.(type) {
	case iter.Seq2[any, error]:
		return s, true
	case iter.Seq[any]:
		return func(yield func(any, error) bool) {
			for v := range s {
				if !yield(v, nil) {
					return
				}
			}
		}, true
	case <-chan any:
		return func(yield func(any, error) bool) {
			for {
				select {
				case <-ctx.Done():
					return
				case v, ok := <-s:
					if !ok || !yield(v, nil) {
						return
					}
				}
			}
		}, true
	}
	return nil, false
}

// writeSSE writes each element as a "data: <json>" event and flushes it. An
// error element ends the stream with a data: {"error": ...} event. The
// stream stops when the client goes away.
func writeSSE(ctx context.Context, w http.ResponseWriter, stream iter.Seq2[any, error]) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			b, _ = json.Marshal(map[string]string{"error": "event is not JSON-encodable: " + err.Error()})
		}
		if _, err := w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	_ = rc.Flush()
	for v, err := range stream {
		if err != nil {
			send(map[string]string{"error": err.Error()})
			return
		}
		if ctx.Err() != nil || !send(v) {
			return
		}
	}
}
