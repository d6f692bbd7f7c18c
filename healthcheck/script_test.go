package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runnerFunc adapts a function to Runner.
type runnerFunc func(ctx context.Context, argv []string) error

func (f runnerFunc) Run(ctx context.Context, argv []string) error { return f(ctx, argv) }

func scriptCheck(t *testing.T, r Runner, argv ...string) Checker {
	t.Helper()
	c, err := NewChecker(netip.Addr{}, Config{Kind: Script, Script: ScriptCheck{Command: argv}}, r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestScriptExit(t *testing.T) {
	var got []string
	ok := runnerFunc(func(ctx context.Context, argv []string) error { got = argv; return nil })
	wantUp(t, runCheck(t, scriptCheck(t, ok, "/usr/local/bin/check", "--quiet")), "exit 0")
	// The command gets its argv, nothing appended.
	if !slices.Equal(got, []string{"/usr/local/bin/check", "--quiet"}) {
		t.Errorf("argv %q", got)
	}

	fails := runnerFunc(func(ctx context.Context, argv []string) error { return errors.New("exit status 2: db unreachable") })
	wantDown(t, runCheck(t, scriptCheck(t, fails, "/usr/local/bin/check")), "/usr/local/bin/check: exit status 2: db unreachable")
}

// A hung script fails at the timeout, through a runner that honours ctx.
func TestScriptHangsUntilTimeout(t *testing.T) {
	hangs := runnerFunc(func(ctx context.Context, argv []string) error {
		<-ctx.Done()
		return fmt.Errorf("killed after timeout: %w", ctx.Err())
	})
	r := runCheckWithin(t, scriptCheck(t, hangs, "/usr/local/bin/check"), shortTimeout)
	wantDown(t, r, "timeout after 300ms running /usr/local/bin/check")
	if !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("err %v is not DeadlineExceeded", r.Err)
	}
}

// A runner that does not return at the deadline cannot hold the check
// past it; and while that run is in flight, the next check fails instead
// of starting a second process beside it.
func TestScriptRunnerIgnoringDeadline(t *testing.T) {
	release := make(chan struct{})
	returned := make(chan struct{})
	var once sync.Once
	stuck := runnerFunc(func(ctx context.Context, argv []string) error {
		<-release // released before the later runs: only the first is stuck
		once.Do(func() { close(returned) })
		return nil
	})
	c := scriptCheck(t, stuck, "/usr/local/bin/check")
	wantDown(t, runCheckWithin(t, c, shortTimeout), "timeout after 300ms running /usr/local/bin/check")
	wantDown(t, runCheck(t, c), "previous run still running")
	close(release)
	<-returned
	// The flag is cleared before the run reports back; the next check runs.
	var r Result
	for r = runCheck(t, c); !r.Up && r.Reason == "previous run still running"; r = runCheck(t, c) {
		time.Sleep(time.Millisecond)
	}
	wantUp(t, r, "exit 0")
}

// execRunner is a Runner like the daemon's: argv without a shell, in a
// process group of its own that is killed when ctx ends.
type execRunner struct {
	pgid chan int // the group of each started command
	done chan error
}

func (e *execRunner) Run(ctx context.Context, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		e.done <- err
		return err
	}
	e.pgid <- cmd.Process.Pid
	err := cmd.Wait()
	e.done <- err
	return err
}

// A real `sh -c 'sleep 60'` is killed, its whole group, at the timeout.
func TestScriptRealProcessKilledAtTimeout(t *testing.T) {
	runner := &execRunner{pgid: make(chan int, 1), done: make(chan error, 1)}
	r := runCheckWithin(t, scriptCheck(t, runner, "/bin/sh", "-c", "sleep 60"), shortTimeout)
	wantDown(t, r, "timeout after 300ms running /bin/sh")
	pgid := <-runner.pgid
	var ee *exec.ExitError
	if err := <-runner.done; !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("sh ended with %v, want killed by SIGKILL", err)
	}
	// Nothing of the group runs on: sh's sleep, if sh forked one, is dead
	// too (a zombie at most, until init reaps it).
	if live := liveInGroup(t, pgid); len(live) > 0 {
		t.Errorf("processes of group %d still alive: %v", pgid, live)
	}
}

// liveInGroup lists the processes of group pgid that are not zombies.
func liveInGroup(t *testing.T, pgid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parens.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 3 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid && f[0] != "Z" && f[0] != "X" {
			live = append(live, s[:strings.LastIndexByte(s, ')')+1])
		}
	}
	return live
}
