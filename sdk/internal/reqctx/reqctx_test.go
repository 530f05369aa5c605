package reqctx

import (
	"context"
	"net/http"
	"testing"
)

func TestValuesAreCopiedNotShared(t *testing.T) {
	h := http.Header{"Authorization": {"Bearer a"}}
	parent := With(context.Background(), Values{SessionID: "s", Headers: h})
	h.Set("Authorization", "Bearer changed-by-caller")
	if got := From(parent).Headers.Get("Authorization"); got != "Bearer a" {
		t.Fatalf("With kept the caller's map: %q", got)
	}

	child := Update(parent, func(v *Values) {
		v.WorkloadAccessToken = "wat"
		v.Headers.Set("Authorization", "Bearer child")
	})
	if p, c := From(parent), From(child); p.WorkloadAccessToken != "" || p.Headers.Get("Authorization") != "Bearer a" ||
		c.WorkloadAccessToken != "wat" || c.SessionID != "s" || c.Headers.Get("Authorization") != "Bearer child" {
		t.Fatalf("parent %+v, child %+v", p, c)
	}
	if v := From(context.Background()); v.SessionID != "" || v.Headers != nil {
		t.Fatalf("empty context: %+v", v)
	}
}
