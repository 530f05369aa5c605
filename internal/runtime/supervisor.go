package runtime

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"
)

// StartupWindow is how long a server-started agent may take to answer
// /ping before its runtime is reported failed.
const StartupWindow = 60 * time.Second

// Supervisor runs the agent processes of runtimes whose
// localConfiguration has a command. Running arbitrary commands is why the
// server only builds one when configured to.
type Supervisor struct {
	log   *slog.Logger
	mu    sync.Mutex
	procs map[string]*supervised
}

type supervised struct {
	proc    *Process
	started time.Time
	out     *tailBuffer
	err     error // start failure
}

// NewSupervisor returns an empty supervisor.
func NewSupervisor(log *slog.Logger) *Supervisor {
	return &Supervisor{log: log, procs: map[string]*supervised{}}
}

// Start launches the agent of runtime id (stopping an earlier one).
func (s *Supervisor) Start(id string, cfg LocalConfig) {
	s.Stop(id)
	sv := &supervised{started: time.Now(), out: &tailBuffer{max: 4096}}
	sv.proc, sv.err = Launch(LaunchSpec{Command: cfg.Command, Env: cfg.Env, Port: cfg.Port, Output: sv.out})
	if sv.err != nil {
		s.log.Warn("agent process did not start", slog.String("runtime", id), slog.String("error", sv.err.Error()))
	} else {
		s.log.Info("agent process started", slog.String("runtime", id), slog.Int("pid", sv.proc.Cmd.Process.Pid))
	}
	s.mu.Lock()
	s.procs[id] = sv
	s.mu.Unlock()
}

// State reports whether runtime id's process is still starting, or why it
// failed ("" if it is not ours).
func (s *Supervisor) State(id string) (starting bool, reason string) {
	s.mu.Lock()
	sv := s.procs[id]
	s.mu.Unlock()
	if sv == nil {
		return false, ""
	}
	if sv.err != nil {
		return false, sv.err.Error()
	}
	if exited, err := sv.proc.Exited(); exited {
		return false, "agent process exited (" + errString(err) + "): " + sv.out.String()
	}
	return time.Since(sv.started) < StartupWindow, ""
}

// Stop ends runtime id's process, if any.
func (s *Supervisor) Stop(id string) {
	s.mu.Lock()
	sv := s.procs[id]
	delete(s.procs, id)
	s.mu.Unlock()
	if sv != nil && sv.proc != nil {
		sv.proc.Stop(5 * time.Second)
	}
}

// StopAll ends every process (server shutdown).
func (s *Supervisor) StopAll() {
	s.mu.Lock()
	ids := make([]string, 0, len(s.procs))
	for id := range s.procs {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.Stop(id)
	}
}

// Wait blocks until runtime id's agent answers /ping (tests, CLI).
func (s *Supervisor) Wait(ctx context.Context, id string, port int) error {
	s.mu.Lock()
	sv := s.procs[id]
	s.mu.Unlock()
	var p *Process
	if sv != nil {
		p = sv.proc
	}
	return WaitReady(ctx, port, p)
}

func errString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// tailBuffer keeps the last max bytes written, for failure reasons.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
