// Package script runs the operator's programs for every part of lvsd
// (notify, track_script and script checks): argv as given, no shell, as
// script_user, in a process group of its own that is killed whole at its
// timeout. vrrp and healthcheck take it through their Runner interfaces.
package script

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Runner runs notify, track and check scripts: argv as given, no
// shell, as the configured user, in a process group of its own that is
// killed whole when ctx ends, so a script's children cannot outlive it.
type Runner struct {
	cred *syscall.Credential // nil: run as lvsd's own user
}

// NewRunner resolves the user scripts run as. Switching user needs
// root; running as lvsd's own user needs nothing.
func NewRunner(name string) (*Runner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("script_user %q: %w", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if int(uid) == os.Getuid() {
		return &Runner{}, nil
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("script_user %q: running scripts as another user needs root", name)
	}
	return &Runner{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
}

// killGrace is how long a script has between SIGTERM and SIGKILL.
const killGrace = 500 * time.Millisecond

func (r *Runner) Run(ctx context.Context, argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: r.cred}
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%w%s", err, tail(out.String()))
		}
		return nil
	case <-ctx.Done():
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(killGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
		// Children that ignored SIGTERM and outlived the leader.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return fmt.Errorf("killed after timeout: %w", ctx.Err())
	}
}

// tail returns the end of a script's output for an error message.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = "…" + s[len(s)-200:]
	}
	return ": " + strings.ReplaceAll(s, "\n", " / ")
}

// Ref is the runner in force: a reload that changes script_user swaps it
// for every script at once (notify, track, checks).
type Ref struct{ p atomic.Pointer[Runner] }

// NewRef holds r.
func NewRef(r *Runner) *Ref {
	ref := &Ref{}
	ref.p.Store(r)
	return ref
}

// Store makes r the runner of every script from now on.
func (r *Ref) Store(runner *Runner) { r.p.Store(runner) }

// Run runs argv with the runner in force.
func (r *Ref) Run(ctx context.Context, argv []string) error { return r.p.Load().Run(ctx, argv) }
