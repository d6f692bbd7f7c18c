package main

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

// scriptRunner runs notify, track and check scripts: argv as given, no
// shell, as the configured user, in a process group of its own that is
// killed whole when ctx ends, so a script's children cannot outlive it.
type scriptRunner struct {
	cred *syscall.Credential // nil: run as lvsd's own user
}

// newScriptRunner resolves the user scripts run as. Switching user needs
// root; running as lvsd's own user needs nothing.
func newScriptRunner(name string) (*scriptRunner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("script_user %q: %w", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if int(uid) == os.Getuid() {
		return &scriptRunner{}, nil
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("script_user %q: running scripts as another user needs root", name)
	}
	return &scriptRunner{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
}

// killGrace is how long a script has between SIGTERM and SIGKILL.
const killGrace = 500 * time.Millisecond

func (r *scriptRunner) Run(ctx context.Context, argv []string) error {
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

// currentUserName is the user lvsd runs as.
func currentUserName() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// runnerRef is the script runner in force: a reload that changes
// script_user swaps it for every script at once (notify, track, checks).
type runnerRef struct{ p atomic.Pointer[scriptRunner] }

func (r *runnerRef) Run(ctx context.Context, argv []string) error { return r.p.Load().Run(ctx, argv) }
