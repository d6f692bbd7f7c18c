//go:build vmguest

package syncguest

import (
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lvsync "github.com/lvsd/lvsd/sync"
	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/vm/guestns"
	"github.com/vishvananda/netlink"
)

// syncNetns is a namespace with two dummy interfaces for the daemons.
func syncNetns(t *testing.T, name string) string {
	t.Helper()
	ns := newNetns(t, name)
	guestns.Configure(t, ns, func(h *netlink.Handle) error {
		return errors.Join(addDummy(h, "sync0"), guestns.AddAddr(h, "sync0", "192.0.2.1/24"),
			addDummy(h, "sync1"), guestns.AddAddr(h, "sync1", "198.51.100.1/24"))
	})
	return ns
}

var base = lvsync.Config{Interface: "sync0", SyncID: 51}.WithDefaults()

func with(f func(c *lvsync.Config)) lvsync.Config {
	c := base
	f(&c)
	return c
}

// TestDaemonParameters starts a master and a backup daemon for each
// parameter in turn, reads them back from the kernel (GET_DAEMON) and from
// ipvsadm, and compares both with what Config.Effective (and so the Fake)
// predicts, including the kernel's defaults and clamps.
func TestDaemonParameters(t *testing.T) {
	ns := syncNetns(t, "sync-params")
	k := openKernel(t, ns)
	cases := []struct {
		name string
		cfg  lvsync.Config
	}{
		{"lvsd defaults", base},
		{"kernel defaults (zero parameters)", lvsync.Config{Interface: "sync0"}},
		{"interface", with(func(c *lvsync.Config) { c.Interface = "sync1" })},
		{"sync id 0", with(func(c *lvsync.Config) { c.SyncID = 0 })},
		{"sync id 255", with(func(c *lvsync.Config) { c.SyncID = 255 })},
		{"maxlen 512 (a backup raises it to 1024)", with(func(c *lvsync.Config) { c.MaxLen = 512 })},
		{"maxlen 9000", with(func(c *lvsync.Config) { c.MaxLen = 9000 })},
		{"maxlen 65535 (clamped to 65507)", with(func(c *lvsync.Config) { c.MaxLen = 65535 })},
		{"group 233.252.0.81 (MCAST-TEST-NET)", with(func(c *lvsync.Config) { c.Group = netip.MustParseAddr("233.252.0.81") })},
		{"group ff02::81", with(func(c *lvsync.Config) { c.Group = netip.MustParseAddr("ff02::81") })},
		{"group ff32:20:2001:db8::81 (IPv6, from the documentation prefix)", with(func(c *lvsync.Config) {
			c.Group, c.MaxLen = netip.MustParseAddr("ff32:20:2001:db8::81"), 65535
		})},
		{"port 54321", with(func(c *lvsync.Config) { c.Port = 54321 })},
		{"ttl 64", with(func(c *lvsync.Config) { c.TTL = 64 })},
		{"ttl 255", with(func(c *lvsync.Config) { c.TTL = 255 })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range lvsync.States {
				if err := k.Start(s, tc.cfg); err != nil {
					if errors.Is(err, errors.ErrUnsupported) {
						t.Skipf("this kernel refuses it: %v", err)
					}
					t.Fatalf("Start(%s): %v", s, err)
				}
			}
			got, err := k.Daemons()
			if err != nil {
				t.Fatal(err)
			}
			want := []lvsync.Daemon{{State: lvsync.Master, Config: tc.cfg.Effective(lvsync.Master)}, {State: lvsync.Backup, Config: tc.cfg.Effective(lvsync.Backup)}}
			if !slices.Equal(got, want) {
				t.Errorf("GET_DAEMON:\n got %v\nwant %v", got, want)
			}
			fake := lvsync.NewFake()
			fake.Start(lvsync.Master, tc.cfg)
			fake.Start(lvsync.Backup, tc.cfg)
			if fd, _ := fake.Daemons(); !slices.Equal(fd, got) {
				t.Errorf("the Fake holds %v, the kernel %v", fd, got)
			}
			var wantLines []string
			for _, d := range want {
				wantLines = append(wantLines, d.String())
			}
			if lines := ipvsadmDaemons(t, ns); !slices.Equal(lines, wantLines) {
				t.Errorf("ipvsadm -L --daemon:\n got %q\nwant %q", lines, wantLines)
			} else {
				t.Logf("ipvsadm: %s", strings.Join(lines, " | "))
			}

			if err := k.Stop(lvsync.Master); err != nil {
				t.Fatal(err)
			}
			if got, _ := k.Daemons(); !slices.Equal(got, want[1:]) {
				t.Errorf("after stopping the master: %v, want %v", got, want[1:])
			}
			if err := k.Stop(lvsync.Backup); err != nil {
				t.Fatal(err)
			}
			if got, err := k.Daemons(); err != nil || len(got) != 0 {
				t.Errorf("after stopping both: %v, %v", got, err)
			}
			if lines := ipvsadmDaemons(t, ns); len(lines) != 0 {
				t.Errorf("ipvsadm still lists %q", lines)
			}
		})
	}
}

// TestDaemonErrors checks that the kernel's answers map to errors.Is-able
// values, and that daemons started by ipvsadm are read, adopted and
// stopped like lvsd's own.
func TestDaemonErrors(t *testing.T) {
	ns := syncNetns(t, "sync-errors")
	k := openKernel(t, ns)
	if err := k.Start(lvsync.Master, base); err != nil {
		t.Fatal(err)
	}
	other := with(func(c *lvsync.Config) { c.Port = 9999 })
	for _, tc := range []struct {
		name string
		err  error
		is   error
		says string
	}{
		{"master twice", k.Start(lvsync.Master, other), os.ErrExist, "already running"},
		{"stop a backup that does not run", k.Stop(lvsync.Backup), os.ErrNotExist, "not running"},
		{"unknown interface", k.Start(lvsync.Backup, with(func(c *lvsync.Config) { c.Interface = "nosuch0" })), lvsync.ErrNoInterface, "no such interface"},
		{"unicast group", k.Start(lvsync.Backup, with(func(c *lvsync.Config) { c.Group = netip.MustParseAddr("192.0.2.81") })), lvsync.ErrInvalidConfig, "not a multicast"},
		{"bad state", k.Start(3, base), lvsync.ErrInvalidConfig, "state(3) is neither master nor backup"},
	} {
		if !errors.Is(tc.err, tc.is) || !strings.Contains(tc.err.Error(), tc.says) {
			t.Errorf("%s: %v; want errors.Is %v saying %q", tc.name, tc.err, tc.is, tc.says)
		} else {
			t.Logf("%s: %v", tc.name, tc.err)
		}
	}
	// The failed second start left the first master as it was.
	if got, _ := k.Daemons(); len(got) != 1 || got[0].Config != base.Effective(lvsync.Master) {
		t.Errorf("after the refused start: %v", got)
	}
	if err := k.Stop(lvsync.Master); err != nil {
		t.Fatal(err)
	}

	// ipvsadm starts a master with its own defaults; lvsd reads it back as
	// the same daemon it would start, and a follower adopts it.
	lab.Ipvsadm(t, ns, "--start-daemon", "master", "--mcast-interface", "sync0", "--syncid", "7")
	got, err := k.Daemons()
	adoptable := lvsync.Config{Interface: "sync0", SyncID: 7}.WithDefaults()
	if err != nil || len(got) != 1 || got[0] != (lvsync.Daemon{State: lvsync.Master, Config: adoptable.Effective(lvsync.Master)}) {
		t.Fatalf("ipvsadm's master read back as %v, %v", got, err)
	}
	f := lvsync.NewFollower(k, adoptable, false)
	acts, err := f.Start()
	if err != nil || len(acts) != 2 || acts[0].Op != lvsync.OpKeep || acts[1].Op != lvsync.OpStart || acts[1].State != lvsync.Backup {
		t.Errorf("follower over ipvsadm's master: %v, %v; want keep master, start backup", acts, err)
	}
	if _, err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	if lines := ipvsadmDaemons(t, ns); len(lines) != 0 {
		t.Errorf("ipvsadm still lists %q", lines)
	}
}

// TestStopRightAfterStart stops each daemon the moment it is started,
// mostly before its kernel thread has run: the kernel then stops it
// without answering (kthread_stop's -EINTR gets no netlink ack), which
// Stop must still report as done, at once rather than after a timeout.
func TestStopRightAfterStart(t *testing.T) {
	ns := syncNetns(t, "sync-flap")
	k := openKernel(t, ns)
	// A thread logs "sync thread started" when it runs (ip_vs_sync.c);
	// one stopped before that never does. Clear the log to count them.
	if out, err := exec.Command("dmesg", "-c").CombinedOutput(); err != nil {
		t.Fatalf("dmesg -c: %v\n%s", err, out)
	}
	for i := range 10 {
		for _, s := range lvsync.States {
			if err := k.Start(s, base); err != nil {
				t.Fatalf("round %d: Start(%s): %v", i, s, err)
			}
			t0 := time.Now()
			if err := k.Stop(s); err != nil {
				t.Fatalf("round %d: Stop(%s) right after Start: %v", i, s, err)
			}
			if d := time.Since(t0); d > time.Second {
				t.Errorf("round %d: Stop(%s) took %v", i, s, d)
			}
		}
		if got, err := k.Daemons(); err != nil || len(got) != 0 {
			t.Fatalf("round %d: still running %v, %v", i, got, err)
		}
	}
	out, err := exec.Command("dmesg").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	started, stopped := strings.Count(string(out), "sync thread started"), strings.Count(string(out), "sync thread ")-strings.Count(string(out), "sync thread started")
	t.Logf("SYNC FLAP: %d of %d stops came before the daemon's thread ran, so without the kernel's ack", stopped-started, stopped)
}

// recorder is a Control that logs the calls it passes on.
type recorder struct {
	lvsync.Control
	calls []string
}

func (r *recorder) Start(s lvsync.State, c lvsync.Config) error {
	r.calls = append(r.calls, "start "+s.String())
	return r.Control.Start(s, c)
}

func (r *recorder) Stop(s lvsync.State) error {
	r.calls = append(r.calls, "stop "+s.String())
	return r.Control.Stop(s)
}

// syncThreads returns the pids of the kernel's sync threads of the given
// state ("ipvs-m:<gen>:<id>", "ipvs-b:<gen>:<id>", ip_vs_sync.c), of every
// namespace.
func syncThreads(t *testing.T, s lvsync.State) []int {
	t.Helper()
	prefix := map[lvsync.State]string{lvsync.Master: "ipvs-m:", lvsync.Backup: "ipvs-b:"}[s]
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err == nil && strings.HasPrefix(string(comm), prefix) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestFollowerInKernel drives a Follower over the real kernel and another
// over the Fake through the same forced sequence of VRRP states and
// reloads: after each step both ask for the same calls, the kernel runs
// what the step wants (GET_DAEMON), and an unchanged reload leaves the
// kernel's sync thread alone (same pid) while a changed one replaces it.
func TestFollowerInKernel(t *testing.T) {
	ns := syncNetns(t, "sync-follow")
	kern := &recorder{Control: openKernel(t, ns)}
	fake := &recorder{Control: lvsync.NewFake()}
	fk := lvsync.NewFollower(kern, base, true)
	ff := lvsync.NewFollower(fake, base, true)
	port := with(func(c *lvsync.Config) { c.Port = 8849 })

	type step struct {
		name    string
		do      func(f *lvsync.Follower) ([]lvsync.Action, error)
		calls   []string
		running []lvsync.State
	}
	vrrp := func(state string) func(f *lvsync.Follower) ([]lvsync.Action, error) {
		return func(f *lvsync.Follower) ([]lvsync.Action, error) { return f.SetState(state == "MASTER") }
	}
	update := func(c lvsync.Config) func(f *lvsync.Follower) ([]lvsync.Action, error) {
		return func(f *lvsync.Follower) ([]lvsync.Action, error) { return f.Update(c) }
	}
	var backupPid int
	steps := []step{
		{"start (INIT)", (*lvsync.Follower).Start, []string{"start backup"}, []lvsync.State{lvsync.Backup}},
		{"INIT → BACKUP", vrrp("BACKUP"), nil, []lvsync.State{lvsync.Backup}},
		{"BACKUP → MASTER", vrrp("MASTER"), []string{"start master", "stop backup"}, []lvsync.State{lvsync.Master}},
		{"MASTER → FAULT", vrrp("FAULT"), []string{"start backup", "stop master"}, []lvsync.State{lvsync.Backup}},
		{"reload, same parameters", update(base), nil, []lvsync.State{lvsync.Backup}},
		{"reload, new port", update(port), []string{"stop backup", "start backup"}, []lvsync.State{lvsync.Backup}},
		{"FAULT → MASTER", vrrp("MASTER"), []string{"start master", "stop backup"}, []lvsync.State{lvsync.Master}},
		{"MASTER → BACKUP (lost the election)", vrrp("BACKUP"), []string{"start backup", "stop master"}, []lvsync.State{lvsync.Backup}},
		{"stop", (*lvsync.Follower).Stop, []string{"stop backup"}, nil},
	}
	for _, s := range steps {
		before := syncThreads(t, lvsync.Backup)
		kern.calls, fake.calls = nil, nil
		acts, err := s.do(fk)
		if err != nil {
			t.Fatalf("%s: kernel follower: %v", s.name, err)
		}
		if _, err := s.do(ff); err != nil {
			t.Fatalf("%s: fake follower: %v", s.name, err)
		}
		if !slices.Equal(kern.calls, s.calls) || !slices.Equal(fake.calls, s.calls) {
			t.Errorf("%s: calls: kernel %q, fake %q, want %q", s.name, kern.calls, fake.calls, s.calls)
		}
		got, err := kern.Daemons()
		if err != nil {
			t.Fatal(err)
		}
		var states []lvsync.State
		for _, d := range got {
			states = append(states, d.State)
			if d.Config != fk.Status().Config.Effective(d.State) {
				t.Errorf("%s: kernel runs %v, want the follower's parameters", s.name, d)
			}
		}
		if !slices.Equal(states, s.running) {
			t.Errorf("%s: GET_DAEMON shows %v, want %v", s.name, got, s.running)
		}
		if fd, _ := fake.Daemons(); !slices.Equal(fd, got) {
			t.Errorf("%s: the Fake runs %v, the kernel %v", s.name, fd, got)
		}
		var logged []string
		for _, a := range acts {
			logged = append(logged, a.String())
		}
		t.Logf("%s: %v", s.name, logged)

		after := syncThreads(t, lvsync.Backup)
		switch s.name {
		case "start (INIT)", "MASTER → FAULT":
			// The new backup thread is the one pid that appeared.
			for _, p := range after {
				if !slices.Contains(before, p) {
					backupPid = p
				}
			}
		case "reload, same parameters":
			if backupPid == 0 || !slices.Contains(after, backupPid) {
				t.Errorf("%s: backup sync thread %d is gone (threads %v → %v): restarted without need", s.name, backupPid, before, after)
			} else {
				t.Logf("%s: backup sync thread %d untouched", s.name, backupPid)
			}
		case "reload, new port":
			if slices.Contains(after, backupPid) {
				t.Errorf("%s: backup sync thread %d still runs: not restarted", s.name, backupPid)
			} else {
				t.Logf("%s: backup sync thread %d replaced (threads now %v)", s.name, backupPid, after)
			}
		}
	}

	// Without an instance both daemons run, whatever the state; a reload
	// restarts both; stop leaves none.
	kern.calls = nil
	fn := lvsync.NewFollower(kern, base, false)
	for _, do := range []func() ([]lvsync.Action, error){fn.Start, func() ([]lvsync.Action, error) { return fn.SetState(true) },
		func() ([]lvsync.Action, error) { return fn.Update(port) }, fn.Stop} {
		if _, err := do(); err != nil {
			t.Fatalf("no instance: %v", err)
		}
	}
	want := []string{"start master", "start backup", "stop master", "start master", "stop backup", "start backup", "stop master", "stop backup"}
	if !slices.Equal(kern.calls, want) {
		t.Errorf("no instance: calls %q, want %q", kern.calls, want)
	}
	if got, _ := kern.Daemons(); len(got) != 0 {
		t.Errorf("after stop: %v", got)
	}
}
