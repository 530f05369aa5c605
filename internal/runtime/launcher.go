package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Process is an agent process started by Launch.
type Process struct {
	Cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// LaunchSpec says how to start an agent.
type LaunchSpec struct {
	Command []string
	Env     map[string]string
	Port    int
	Dir     string
	// Output receives the process's stdout and stderr (nil discards).
	Output io.Writer
}

// Launch starts an agent process in its own process group, so that it
// outlives the command that launched it and can be stopped as a whole
// (with the children a `go run` would fork). PORT is set to spec.Port.
func Launch(spec LaunchSpec) (*Process, error) {
	if len(spec.Command) == 0 {
		return nil, errors.New("runtime: empty command")
	}
	cmd := exec.Command(spec.Command[0], spec.Command[1:]...)
	cmd.Dir = spec.Dir
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(spec.Port))
	for k, v := range spec.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = spec.Output, spec.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("runtime: start %s: %w", spec.Command[0], err)
	}
	p := &Process{Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) {
	_ = StopGroup(p.Cmd.Process.Pid, grace, p.done)
}

// StopGroup stops the process group led by pid: SIGTERM, then SIGKILL if
// it has not exited after grace. done, when not nil, signals the exit of a
// child of ours; otherwise liveness is polled.
func StopGroup(pid int, grace time.Duration, done <-chan struct{}) error {
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil // already gone
		}
		return fmt.Errorf("runtime: stop process group %d: %w", pid, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if done != nil {
			select {
			case <-done:
				return nil
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if syscall.Kill(-pid, 0) != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	return nil
}

// Alive reports whether a process with pid exists.
func Alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// Ping checks that an agent answers GET /ping on 127.0.0.1:port.
func Ping(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostPort(port)+"/ping", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("runtime: GET /ping answered %d", resp.StatusCode)
	}
	return nil
}

// WaitReady polls GET /ping until it answers, ctx ends or, when p is not
// nil, the process exits.
func WaitReady(ctx context.Context, port int, p *Process) error {
	for {
		if Ping(ctx, port) == nil {
			return nil
		}
		if p != nil {
			if exited, err := p.Exited(); exited {
				return fmt.Errorf("runtime: agent exited before answering /ping: %v", err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("runtime: agent did not answer GET /ping on port %d: %w", port, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// BuildGo builds the Go main package in dir into out.
func BuildGo(ctx context.Context, dir, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, ".")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("runtime: go build in %s: %w\n%s", dir, err, b)
	}
	return nil
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
