//go:build vmguest

package guest

import (
	"context"
	"fmt"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReload: a reload that changes one real server's weight leaves the
// master master (no transition, no GARP), changes only that weight in the
// kernel and keeps a streaming connection alive; an invalid reload
// changes nothing and `lvsd reload` exits 1 with the diagnostics.
func TestReload(t *testing.T) {
	s := natSite(t)
	for i, h := range s.rs {
		serveHTTP(t, h, netip.MustParseAddrPort("0.0.0.0:8080"), fmt.Sprintf("rs%d", i+1))
	}
	arps := s.client.WatchARP(t, "eth0")
	body := strings.Replace(directorHCL(s.vip, "nat", 8080, s.rsIP, ""), "priority          = 255", "priority          = 150\n  advert_interval   = \"200ms\"", 1)
	d := lvsdtest.Start(t, s.director, body)
	lvsdtest.WaitFor(t, 10*time.Second, "master with both servers", func() bool { return d.State() == "MASTER" && len(ipvsTable(t, s.director)) == 3 })
	st := openStream(t, s.client, netip.AddrPortFrom(s.vip, 80))
	lvsdtest.WaitFor(t, 3*time.Second, "the stream flows", func() bool { n, _, _, _ := st.snapshot(); return n > 5 })
	time.Sleep(time.Second) // past the first GARP bursts

	before := ipvsTable(t, s.director)
	instBefore := instance(t, d)
	reloaded := time.Now()
	logBefore := len(d.Output())
	writeConfig(t, d, func(c string) string {
		return strings.Replace(c, "weight = 1\n", "weight = 4\n", 1) // rs2
	})
	out, err := d.Reload()
	if err != nil {
		t.Fatalf("lvsd reload: %v\n%s", err, out)
	}
	t.Logf("lvsd reload: %s", strings.TrimSpace(out))
	time.Sleep(time.Second)

	after := ipvsTable(t, s.director)
	want := slices.Clone(before)
	want[2] = strings.Replace(want[2], "Masq 1", "Masq 4", 1)
	if !slices.Equal(after, want) {
		t.Errorf("table after the reload %q, want only rs2's weight changed: %q", after, want)
	}
	var ops []string
	for _, line := range strings.Split(d.Output()[logBefore:], "\n") {
		if i := strings.Index(line, `msg=ipvs op="`); i >= 0 {
			ops = append(ops, line[i+len(`msg=ipvs op="`):len(line)-1])
		}
	}
	if len(ops) != 1 || !strings.HasPrefix(ops[0], "update-destination tcp 203.0.113.100:80 198.51.100.22:8080 weight 1→4") {
		t.Errorf("IPVS operations of the reload: %q; want the one weight update", ops)
	}
	instAfter := instance(t, d)
	if instAfter.State != "MASTER" || instAfter.Transitions != instBefore.Transitions {
		t.Errorf("reload moved the instance: %v → %v transitions, state %v", instBefore.Transitions, instAfter.Transitions, instAfter.State)
	}
	if n := arps.Count(reloaded, s.vip); n != 0 {
		t.Errorf("%d GARPs for the VIP after a reload that kept the master", n)
	}
	lines, longest, missing, serr := st.snapshot()
	t.Logf("stream across the reload: %d lines, longest gap %s", lines, longest)
	if serr != nil || missing != 0 || time.Since(st.lastLine()) > time.Second {
		t.Errorf("stream broken by the reload: %v, %d lost", serr, missing)
	}

	// An invalid file changes nothing.
	writeConfig(t, d, func(c string) string { return strings.Replace(c, "weight = 3\n", "wieght = 3\n", 1) })
	cmd := s.director.Command(context.Background(), lvsdtest.MustBinary(t), "reload", "-s", d.Socket)
	out, err = combined(s.director, cmd)
	if err == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(out, `lvsd.hcl:`) || !strings.Contains(out, `An argument named "wieght" is not expected here`) {
		t.Errorf("invalid reload: exit %v, %s; want exit 1 with the diagnostics", err, out)
	}
	if got := ipvsTable(t, s.director); !slices.Equal(got, after) {
		t.Errorf("an invalid reload changed the table: %q", got)
	}
	if status, err := d.Status(); err != nil {
		t.Errorf("reload counters: %v", err)
	} else if status.ReloadFailures != 1 || status.Reloads != 1 {
		t.Errorf("reload counters: %v successes, %v failures", status.Reloads, status.ReloadFailures)
	}
}

func instance(t *testing.T, d *lvsdtest.Daemon) lvsdtest.Instance {
	t.Helper()
	s, err := d.Status()
	if err != nil {
		t.Fatal(err)
	}
	return s.Instances[0]
}

// writeConfig rewrites the daemon's configuration file in place.
func writeConfig(t *testing.T, d *lvsdtest.Daemon, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	changed := edit(string(b))
	if changed == string(b) {
		t.Fatal("the edit changed nothing")
	}
	if err := os.WriteFile(d.Config, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
}
