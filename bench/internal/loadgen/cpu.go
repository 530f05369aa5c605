package loadgen

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPUSample is a reading of this process's CPU time and, on Linux, the
// whole machine's. The harness shares the machine with whatever else runs
// on it; comparing the two says whether a run had the CPUs to itself.
type CPUSample struct {
	at   time.Time
	self time.Duration // this process, user + system
	busy time.Duration // every CPU, all but idle and iowait
	ok   bool          // busy is known
}

// userHZ is the unit of /proc/stat (USER_HZ, 100 on every mainstream
// Linux build).
const userHZ = 100

// ReadCPU samples the CPU times now.
func ReadCPU() CPUSample {
	s := CPUSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal [guest guest_nice]:
	// guest time is already inside user.
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	var ticks int64
	for i, v := range f[1:9] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return s
		}
		if i != 3 && i != 4 { // idle, iowait
			ticks += n
		}
	}
	s.busy, s.ok = time.Duration(ticks)*time.Second/userHZ, true
	return s
}

// Cores returns how many cores this process and everything else (other
// processes, the hypervisor's steal) kept busy from a to b.
func Cores(a, b CPUSample) (self, others float64) {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return 0, 0
	}
	self = (b.self - a.self).Seconds() / wall
	if a.ok && b.ok {
		others = max((b.busy-a.busy).Seconds()/wall-self, 0)
	}
	return self, others
}
