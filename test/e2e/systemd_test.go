//go:build lab

package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSystemdNotify runs lvsd as systemd's Type=notify would: READY once
// serving, watchdog pings at half of WATCHDOG_USEC, RELOADING and READY
// around a SIGHUP, STOPPING on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	dir := t.TempDir()
	sockPath := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cfg := filepath.Join(dir, "lvsd.hcl")
	os.WriteFile(cfg, []byte("global {\n  control_socket = \""+filepath.Join(dir, "lvsd.sock")+"\"\n}\n"), 0o644)
	cmd := exec.Command(lvsdBin, "run", "-c", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sockPath, "WATCHDOG_USEC=400000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	read := func(timeout time.Duration) string {
		conn.SetReadDeadline(time.Now().Add(timeout))
		b := make([]byte, 4096)
		n, err := conn.Read(b)
		if err != nil {
			return ""
		}
		return string(b[:n])
	}
	expect := func(what string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			if m := read(time.Until(deadline)); strings.Contains(m, what) {
				return
			}
		}
		t.Fatalf("no %q from lvsd within %s", what, within)
	}
	expect("READY=1", 5*time.Second)
	start := time.Now()
	for range 3 {
		expect("WATCHDOG=1", time.Second)
	}
	t.Logf("3 watchdog pings in %s (WATCHDOG_USEC 400ms: one per 200ms)", time.Since(start).Round(time.Millisecond))
	cmd.Process.Signal(syscall.SIGHUP)
	expect("RELOADING=1", 2*time.Second)
	expect("READY=1", 2*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	expect("STOPPING=1", 2*time.Second)
	if err := cmd.Wait(); err != nil {
		t.Errorf("lvsd exited with %v on SIGTERM, want 0", err)
	}
}
