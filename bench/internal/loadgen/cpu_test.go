package loadgen

import (
	"testing"
	"time"
)

func TestCores(t *testing.T) {
	t0 := time.Now()
	a := CPUSample{at: t0, self: time.Second, busy: 2 * time.Second, ok: true}
	b := CPUSample{at: t0.Add(10 * time.Second), self: 16 * time.Second, busy: 20 * time.Second, ok: true}
	self, others := Cores(a, b)
	if self != 1.5 || others < 0.2999 || others > 0.3001 {
		t.Errorf("cores = %v, %v; want 1.5 ours, 0.3 others", self, others)
	}
	b.ok = false // no /proc/stat: others unknown, not negative
	if self, others = Cores(a, b); self != 1.5 || others != 0 {
		t.Errorf("cores without machine totals = %v, %v", self, others)
	}
	if s := ReadCPU(); s.self <= 0 {
		t.Errorf("readCPU: this process used no CPU? %+v", s)
	}
}
