package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/control"
)

// TestLockOneDaemon: while one daemon holds the lock, a second Lock fails
// with ErrRunning naming the pid and socket; unlock frees it.
func TestLockOneDaemon(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "run", "lvsd.sock")
	unlock, err := Lock(socket)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(socket + ".lock")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, %v; want mode 0600", fi, err)
	}
	if b, _ := os.ReadFile(socket + ".lock"); string(b) != fmt.Sprintf("%d\n", os.Getpid()) {
		t.Errorf("lock file holds %q, want the pid %d", b, os.Getpid())
	}
	// flock belongs to the open file, so a second open in this process
	// conflicts as another process's would.
	_, err = Lock(socket)
	want := fmt.Sprintf("another lvsd is running: pid %d holds its control socket %s (lock %s.lock)", os.Getpid(), socket, socket)
	if !errors.Is(err, control.ErrRunning) || err.Error() != want {
		t.Fatalf("second Lock: %v\nwant ErrRunning: %s", err, want)
	}
	unlock()
	if b, _ := os.ReadFile(socket + ".lock"); len(b) != 0 {
		t.Errorf("after unlock the lock file holds %q", b)
	}
	unlock, err = Lock(socket)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock()
}

// TestLockStaleFiles: the socket and lock files of a SIGKILLed daemon (its
// pid still written, its mode changed) never block a start.
func TestLockStaleFiles(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "lvsd.sock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	cmd.Env = append(os.Environ(), "LVSD_LOCK_HELPER="+socket)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	os.WriteFile(socket, []byte("a socket file left behind"), 0o600)
	if _, err := Lock(socket); !errors.Is(err, control.ErrRunning) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d holds", cmd.Process.Pid)) {
		t.Fatalf("Lock while the helper holds it: %v; want ErrRunning naming pid %d", err, cmd.Process.Pid)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	os.Chmod(socket+".lock", 0o644)
	unlock, err := Lock(socket)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	defer unlock()
	fi, _ := os.Stat(socket + ".lock")
	if b, _ := os.ReadFile(socket + ".lock"); string(b) != fmt.Sprintf("%d\n", os.Getpid()) || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file %q mode %v; want this pid, 0600", b, fi.Mode().Perm())
	}
}

// TestLockHelper is the daemon that TestLockStaleFiles kills: run alone,
// it only checks that it is not asked to be that daemon.
func TestLockHelper(t *testing.T) {
	socket := os.Getenv("LVSD_LOCK_HELPER")
	if socket == "" {
		return
	}
	if _, err := Lock(socket); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("locked")
	for {
		time.Sleep(time.Minute) // until SIGKILL
	}
}
