package lvsdtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
)

// Daemon is lvsd running in a lab host on a configuration file of its own,
// with its control socket in the test's temporary folder.
type Daemon struct {
	*Process // the current run; Restart replaces it

	t      testing.TB
	host   *lab.Host
	bin    string
	Dir    string // the test's folder holding Config and Socket
	Config string // the configuration file; a test may rewrite it, then Reload
	Socket string // the control socket
}

// startTimeout bounds how long lvsd may take to answer on its control
// socket after it starts; a VM under TCG needs more than a host does.
const startTimeout = 10 * time.Second

// Start runs `lvsd run` in h with body as its configuration and waits until
// it answers on its control socket. Start adds router_id (the host's name),
// control_socket and log_level = "debug" to body's global block, or adds a
// global block with them.
func Start(t testing.TB, h *lab.Host, body string) *Daemon {
	t.Helper()
	dir := t.TempDir()
	d := &Daemon{t: t, host: h, bin: MustBinary(t), Dir: dir,
		Config: filepath.Join(dir, "lvsd.hcl"), Socket: filepath.Join(dir, "lvsd.sock")}
	ours := fmt.Sprintf("  router_id = %q\n  control_socket = %q\n  log_level = \"debug\"\n", h.Name(), d.Socket)
	cfg := "global {\n" + ours + "}\n" + body
	if strings.Contains(body, "global {\n") {
		cfg = strings.Replace(body, "global {\n", "global {\n"+ours, 1)
	}
	if err := os.WriteFile(d.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d.start()
	return d
}

func (d *Daemon) start() {
	t := d.t
	t.Helper()
	name := "lvsd on " + d.host.Name()
	d.Process = StartProcess(t, d.host, name, d.bin, "run", "-c", d.Config)
	WaitFor(t, startTimeout, name+" answers on its control socket", func() bool {
		if d.Exited() {
			t.Fatalf("%s exited:\n%s", name, d.Output())
		}
		_, err := d.Status()
		return err == nil
	})
}

// Restart starts lvsd again on the same configuration and socket, after
// Kill or Terminate.
func (d *Daemon) Restart() {
	d.t.Helper()
	if !d.Exited() {
		d.t.Fatalf("%s: Restart while it still runs", d.Name())
	}
	d.start()
}

// Reload runs `lvsd reload` against the daemon, in its host, and returns
// the command's output and error (exit status 1 for a refused file).
func (d *Daemon) Reload() (string, error) {
	return d.CLI("reload")
}

// CLI runs `lvsd args... -s <socket>` in the daemon's host, as an operator
// on the director would, and returns its combined output.
func (d *Daemon) CLI(args ...string) (string, error) {
	cmd := d.host.Command(context.Background(), d.bin, append(args, "-s", d.Socket)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := d.host.Run(cmd)
	return out.String(), err
}

// Instance is the status of the daemon's first VRRP instance, or the zero
// value when the daemon does not answer.
func (d *Daemon) Instance() Instance {
	s, err := d.Status()
	if err != nil || len(s.Instances) == 0 {
		return Instance{}
	}
	return s.Instances[0]
}

// State is the state of the daemon's first VRRP instance ("" when the
// daemon does not answer).
func (d *Daemon) State() string { return d.Instance().State }

// WaitState waits until the first instance is in state.
func (d *Daemon) WaitState(state string, timeout time.Duration) {
	d.t.Helper()
	WaitFor(d.t, timeout, d.Name()+" becomes "+state, func() bool { return d.State() == state })
}
