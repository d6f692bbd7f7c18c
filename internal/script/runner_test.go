package script

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestScriptRunner(t *testing.T) {
	r := runner(t)
	if err := r.Run(context.Background(), []string{"/bin/true"}); err != nil {
		t.Errorf("true: %v", err)
	}
	err := r.Run(context.Background(), []string{"/bin/sh", "-c", "echo broken >&2; exit 3"})
	if err == nil || !strings.Contains(err.Error(), "exit status 3: broken") {
		t.Errorf("failing script: %v, want exit status 3 with its output", err)
	}
	if err := r.Run(context.Background(), []string{"/nonexistent/script"}); err == nil {
		t.Error("missing script ran")
	}
}

// A script that hangs is killed with every process it started: nothing of
// it outlives the timeout.
func TestScriptRunnerKillsProcessGroup(t *testing.T) {
	r := runner(t)
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // long enough for a loaded machine to start the child
	defer cancel()
	script := "trap '' TERM; sleep 60 & echo $! > " + pidfile + "; wait"
	err := r.Run(ctx, []string{"/bin/sh", "-c", script})
	if err == nil || !strings.Contains(err.Error(), "killed after timeout") {
		t.Fatalf("hung script: %v", err)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// SIGKILL is delivered when the child next runs, so on a loaded
	// machine it may still show as running for a moment: it must become
	// gone or a zombie awaiting its reaper within a bounded wait.
	if stat, dead := waitDead(pid, 5*time.Second); !dead {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the script's child %d survived: %s", pid, stat)
	}
}

// waitDead polls until pid is gone or a zombie, for at most limit.
func waitDead(pid int, limit time.Duration) (stat string, dead bool) {
	for end := time.Now().Add(limit); ; {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(b), ") Z ") {
			return "", true
		}
		if time.Now().After(end) {
			return string(b), false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestScriptRunnerUnknownUser(t *testing.T) {
	if _, err := NewRunner("no-such-user-lvsd"); err == nil {
		t.Error("unknown script_user accepted")
	}
}

// currentUserName is the user the tests run as.
func currentUserName() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.Username, nil
}
