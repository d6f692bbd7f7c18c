package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/control"
)

// fakeDaemon answers on a control socket and counts what it is asked.
type fakeDaemon struct{ reloads, calls atomic.Int32 }

func (f *fakeDaemon) Status() *control.Status { f.calls.Add(1); return &control.Status{} }
func (f *fakeDaemon) Reload() ([]string, error) {
	f.calls.Add(1)
	f.reloads.Add(1)
	return []string{"no change"}, nil
}
func (f *fakeDaemon) Drill(string, time.Duration) (*control.DrillReport, error) {
	f.calls.Add(1)
	return &control.DrillReport{Failure: "fake"}, nil
}

func serveFake(t *testing.T, socket string) *fakeDaemon {
	t.Helper()
	l, err := control.Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeDaemon{}
	done := make(chan struct{})
	go func() { control.Serve(ctx, l, f, slog.New(slog.NewTextHandler(io.Discard, nil))); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

// clientFile writes a configuration whose control socket is socket, with
// body after the global block.
func clientFile(t *testing.T, socket, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lvsd.hcl")
	if err := os.WriteFile(path, []byte("global {\n  control_socket = \""+socket+"\"\n}\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReloadInvalidFile: `lvsd reload -c FILE` on an invalid FILE prints
// what `lvsd check` prints, exits 1 and never asks the daemon, which a
// valid FILE does reach.
func TestReloadInvalidFile(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "lvsd.sock")
	daemon := serveFake(t, socket)
	files := map[string]string{
		"syntax error":     clientFile(t, socket, "vrrp \"VI_1\" {\n  interface = \"eth0\"\n"),
		"invalid value":    clientFile(t, socket, "vrrp \"VI_1\" {\n  interface = \"lo\"\n  virtual_router_id = 300\n  virtual_ips = [\"192.0.2.100/24\"]\n}\n"),
		"100,000 brackets": clientFile(t, socket, "x = "+strings.Repeat("[", 100_000)+"\n"),
	}
	for name, file := range files {
		_, _, checkErr := run("check", "-c", file)
		if !strings.Contains(checkErr, file+": invalid: ") {
			t.Fatalf("%s: lvsd check says %q", name, checkErr)
		}
		for _, cmd := range []string{"reload", "status", "drill"} {
			code, out, errOut := run(cmd, "-c", file)
			if code != exitFail || out != "" {
				t.Errorf("%s: lvsd %s: exit %d, stdout %q; want 1 and nothing", name, cmd, code, out)
			}
			if rest, ok := strings.CutPrefix(errOut, checkErr); !ok || rest != "lvsd "+cmd+": the daemon was not asked (give -s SOCKET to reach it regardless of "+file+")\n" {
				t.Errorf("%s: lvsd %s: stderr\n%s\nwant what check prints:\n%s", name, cmd, errOut, checkErr)
			}
		}
	}
	if n := daemon.calls.Load(); n != 0 {
		t.Fatalf("the daemon was asked %d times", n)
	}
	valid := clientFile(t, socket, "vrrp \"VI_1\" {\n  interface = \"lo\"\n  virtual_router_id = 51\n  virtual_ips = [\"192.0.2.100/24\"]\n}\n")
	if code, out, errOut := run("reload", "-c", valid); code != exitOK || out != "no change\n" || daemon.reloads.Load() != 1 {
		t.Errorf("valid file: exit %d, %q %q, %d reloads; want 0 and the daemon asked once", code, out, errOut, daemon.reloads.Load())
	}
}

// TestClientUnreachable: a daemon that does not answer is exit 1 with
// the socket named, for every client command (DESIGN.md, "Commands").
func TestClientUnreachable(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "none.sock")
	file := clientFile(t, socket, "")
	for _, cmd := range []string{"reload", "status", "drill"} {
		for _, args := range [][]string{{"-s", socket}, {"-c", file}} {
			code, _, errOut := run(append([]string{cmd}, args...)...)
			if code != exitFail || !strings.Contains(errOut, "lvsd "+cmd+": cannot reach lvsd at "+socket) {
				t.Errorf("lvsd %s %v: exit %d, %q; want 1 naming %s", cmd, args, code, errOut, socket)
			}
		}
	}
	if code, _, errOut := run("reload", "-c", file, "-s", socket); code != exitUsage || !strings.Contains(errOut, "give -c or -s, not both") {
		t.Errorf("-c and -s: exit %d, %q; want the usage error", code, errOut)
	}
}
