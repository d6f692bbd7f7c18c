package lvsdtest

import (
	"bytes"
	"context"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
)

// Process is a daemon running in a lab host (lvsd, or keepalived as its
// interop peer), its output kept and shown when the test fails. It is
// SIGKILLed at the end of the test.
type Process struct {
	t     testing.TB
	label string
	proc  *os.Process
	out   *output
	done  chan struct{}
}

// StartProcess runs argv in h; label names it in failures ("keepalived on
// dir-b").
func StartProcess(t testing.TB, h *lab.Host, label string, argv ...string) *Process {
	t.Helper()
	p := &Process{t: t, label: label, out: &output{}, done: make(chan struct{})}
	cmd := h.Command(context.Background(), argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := h.Start(cmd); err != nil {
		t.Fatalf("starting %s: %v", label, err)
	}
	p.proc = cmd.Process
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", label, p.out.String())
		}
	})
	return p
}

// Name is the label given to StartProcess.
func (p *Process) Name() string { return p.label }

// Pid is the process id (for reading its /proc entries).
func (p *Process) Pid() int { return p.proc.Pid }

// Output is everything the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// Signal sends s to the process unless it has exited.
func (p *Process) Signal(s syscall.Signal) {
	select {
	case <-p.done:
	default:
		p.proc.Signal(s)
	}
}

// Kill SIGKILLs the whole process group and waits, so that a daemon's
// helpers (keepalived's VRRP child) die as unplanned as the daemon itself.
func (p *Process) Kill() {
	select {
	case <-p.done:
	default:
		syscall.Kill(-p.proc.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// Terminate sends SIGTERM and waits up to 10s for the exit (a planned
// stop: a VRRP master resigns with priority 0); a daemon still running
// then fails the test and is killed.
func (p *Process) Terminate() {
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s did not stop within 10s of SIGTERM", p.label)
		p.Kill()
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output is a process's stdout and stderr, written by the exec package's
// copying goroutines while the test reads it.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
