package script

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runner is a runner as the test's own user.
func runner(t *testing.T) *Runner {
	t.Helper()
	me, err := currentUserName()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(me)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// readPid reads the pid a script wrote.
func readPid(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// assertDead fails if pid is still alive after a bounded wait, and kills it.
func assertDead(t *testing.T, what string, pid int) {
	t.Helper()
	if stat, dead := waitDead(pid, 5*time.Second); !dead {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("%s %d survived: %s", what, pid, stat)
	}
}

// A script that exits but leaves a child holding its output returns at
// once, successful, and the child is killed with it: in the script's
// group, or moved to a group of its own (bash's job control) but still
// in its session.
func TestRunnerScriptLeavingChild(t *testing.T) {
	r := runner(t)
	for _, tc := range []struct{ name, shell string }{
		{"same group", "sleep 300 & echo $! > PIDFILE; echo started"},
		{"own group", "set -m; sleep 300 & echo $! > PIDFILE; echo started"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidfile := filepath.Join(t.TempDir(), "child.pid")
			start := time.Now()
			err := r.Run(context.Background(), []string{"/bin/bash", "-c", strings.ReplaceAll(tc.shell, "PIDFILE", pidfile)})
			took := time.Since(start)
			if err != nil {
				t.Errorf("script: %v, want success", err)
			}
			// A second at most on a loaded machine; the fault was 30 s.
			if took > time.Second {
				t.Errorf("Run returned after %s, want at once", took)
			}
			assertDead(t, "the script's child", readPid(t, pidfile))
			t.Logf("returned after %s", took)
		})
	}
}

// A script printing 100 MB costs no memory: its output is read and thrown
// away but for the last outputLimit bytes, and the truncation is logged.
func TestRunnerOutputBounded(t *testing.T) {
	var logged bytes.Buffer
	r := runner(t).WithLog(slog.New(slog.NewTextHandler(&logged, nil)))
	const size = 100 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := r.Run(context.Background(), []string{"/bin/sh", "-c", "head -c 104857600 /dev/zero | tr '\\0' x; echo; echo the end; exit 4"})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "exit status 4: …") || !strings.HasSuffix(err.Error(), "/ the end") {
		t.Errorf("error %v; want exit status 4 with the end of the output, marked truncated", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("reading %d bytes of output allocated %d bytes, want under 4 MiB", size, got)
	} else {
		t.Logf("reading %d bytes of output allocated %d bytes", size, got)
	}
	if want := "bytes=" + strconv.Itoa(size+len("\nthe end\n")); !strings.Contains(logged.String(), "script output truncated") || !strings.Contains(logged.String(), want) {
		t.Errorf("logged %q; want the truncation with %s", logged.String(), want)
	}
}

// A hanging script that ignores SIGTERM is killed at its timeout with
// every process of its session, in its group or not.
func TestRunnerTimeoutKillsSession(t *testing.T) {
	r := runner(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // long enough for a loaded machine to start both
	defer cancel()
	script := "trap '' TERM; sleep 300 & echo $! > " + dir + "/group.pid; set -m; " +
		"bash -c \"trap '' TERM; sleep 300\" & echo $! > " + dir + "/own.pid; wait"
	start := time.Now()
	err := r.Run(ctx, []string{"/bin/bash", "-c", script})
	if err == nil || !strings.Contains(err.Error(), "killed after timeout") {
		t.Fatalf("hung script: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second+killGrace+time.Second {
		t.Errorf("Run returned %s after the start, want the timeout and the kill grace", took)
	}
	assertDead(t, "the child in the script's group", readPid(t, dir+"/group.pid"))
	assertDead(t, "the child in a group of its own", readPid(t, dir+"/own.pid"))
}

// Close kills what runs through a Ref and refuses more.
func TestRefClose(t *testing.T) {
	ref := NewRef(runner(t))
	done := make(chan error, 1)
	pidfile := filepath.Join(t.TempDir(), "script.pid")
	go func() {
		done <- ref.Run(context.Background(), []string{"/bin/sh", "-c", "echo $$ > " + pidfile + "; exec sleep 300"})
	}()
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(pidfile); len(b) > 0 && b[len(b)-1] == '\n' {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the script did not start")
		}
	}
	ref.Close()
	// Close waits for the kill: the script is reaped already.
	if err := syscall.Kill(readPid(t, pidfile), 0); err != syscall.ESRCH {
		t.Errorf("the script is still there after Close: %v", err)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("the running script: %v, want killed", err)
	}
	if err := ref.Run(context.Background(), []string{"/bin/true"}); err == nil {
		t.Error("a script ran after Close")
	}
}
