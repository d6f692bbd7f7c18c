package control

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeDaemon answers like the daemon, recording what it was asked.
type fakeDaemon struct {
	reloadErr error
	drilled   string
	hold      time.Duration
}

func (f *fakeDaemon) Status() *Status {
	return &Status{RouterID: "dir-a", Instances: []Instance{{Name: "VI_1", State: "MASTER", VIPs: []string{"192.0.2.100/24"}}}}
}

func (f *fakeDaemon) Reload() ([]string, error) {
	return []string{"instance VI_1 updated"}, f.reloadErr
}

func (f *fakeDaemon) Drill(instance string, hold time.Duration) (*DrillReport, error) {
	f.drilled, f.hold = instance, hold
	return &DrillReport{Instance: "VI_1", NewMaster: "192.0.2.12", TakeoverMS: 310}, nil
}

func serve(t *testing.T, h Handler) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "lvsd.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { Serve(t.Context(), l, h, slog.New(slog.NewTextHandler(io.Discard, nil))); close(done) }()
	t.Cleanup(func() { l.Close(); <-done })
	return path
}

func TestClientAndServer(t *testing.T) {
	f := &fakeDaemon{}
	path := serve(t, f)
	st, err := GetStatus(path)
	if err != nil {
		t.Fatal(err)
	}
	if in, ok := st.Instance("VI_1"); !ok || in.State != "MASTER" || st.RouterID != "dir-a" {
		t.Errorf("status: %+v", st)
	}
	reply, err := Call(path, Request{Command: CmdDrill, Instance: "VI_1", Hold: "30s"}, CallTimeout)
	if err != nil || reply.Drill == nil || reply.Drill.TakeoverMS != 310 {
		t.Fatalf("drill: %+v, %v", reply, err)
	}
	if f.drilled != "VI_1" || f.hold != 30*time.Second {
		t.Errorf("the daemon was asked to drill %q holding %s", f.drilled, f.hold)
	}
	reply, err = Call(path, Request{Command: CmdReload}, CallTimeout)
	if err != nil || strings.Join(reply.Changes, ";") != "instance VI_1 updated" {
		t.Errorf("reload: %+v, %v", reply, err)
	}
}

func TestServerRefusals(t *testing.T) {
	f := &fakeDaemon{reloadErr: errors.New("lvsd.hcl:3,5: bad")}
	path := serve(t, f)
	reply, err := Call(path, Request{Command: CmdReload}, CallTimeout)
	if err == nil || reply == nil || reply.OK || reply.Error != "lvsd.hcl:3,5: bad" || len(reply.Changes) != 1 {
		t.Errorf("rejected reload: %+v, %v", reply, err)
	}
	for req, want := range map[Request]string{
		{Command: "flush"}:                 `unknown command "flush"`,
		{Command: CmdDrill, Hold: "-1s"}:   `bad hold "-1s"`,
		{Command: CmdDrill, Hold: "often"}: `bad hold "often"`,
	} {
		if reply, err := Call(path, req, CallTimeout); err == nil || reply.Error != want {
			t.Errorf("%+v: %+v, %v; want error %q", req, reply, err, want)
		}
	}
	// A request without end is cut at its limit, not read forever.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go c.Write([]byte(strings.Repeat("x", 2*requestLimit)))
	out, _ := io.ReadAll(c)
	if !strings.Contains(string(out), "bad request") {
		t.Errorf("an endless request got %q", out)
	}
}

func TestListen(t *testing.T) {
	path := serve(t, &fakeDaemon{})
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v, %v; want 0600", fi.Mode(), err)
	}
	if _, err := Listen(path); !errors.Is(err, ErrRunning) {
		t.Errorf("a second Listen on a live socket: %v; want ErrRunning", err)
	}
	// A socket file nobody answers on (a daemon that died) is replaced.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l, err = Listen(stale)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	l.Close()
	if _, err := GetStatus(stale); err == nil {
		t.Error("a closed socket answered")
	}
}

func TestWriteStatus(t *testing.T) {
	var b strings.Builder
	WriteStatus(&b, &Status{
		Version: "v1", RouterID: "dir-a", PID: 7, Config: "/etc/lvsd/lvsd.hcl", Started: time.Now(),
		Instances: []Instance{{Name: "VI_1", VRID: 51, Interface: "eth0", Version: 3, State: "MASTER", Priority: 150,
			EffectivePriority: 130, VIPs: []string{"192.0.2.100/24"}, Drops: map[string]uint64{"ttl": 2, "auth": 1},
			Faults: []string{"eth1 down"}, MasterWithoutVIPs: true, VIPError: "add 192.0.2.100/24: too many open files"}},
		Sync:      &Sync{Instance: "VI_1", Daemons: []string{"master sync daemon (mcast=eth0)"}},
		Sockets:   []Socket{{Interface: "eth0", Family: "ipv4", UnknownVRID: 4, KernelDrops: 2}, {Interface: "eth1", Family: "ipv4"}},
		IPVSDrift: &IPVSDrift{Count: 1, Ops: 2, Last: time.Now(), LastOps: []string{"update-destination"}},
		Services: []Service{{Name: "web", Service: "TCP 192.0.2.100:80", Scheduler: "wlc", Forwarding: "dr", Quorum: 1, Healthy: 3,
			RealServers: []RealServer{{Address: "192.0.2.21:80", Weight: 3, Forwarding: "dr", Healthy: true, Check: "http"}}}},
	})
	for _, want := range []string{
		"lvsd v1, router dir-a, pid 7",
		"150→130", "auth=1,ttl=2", "VI_1: fault: eth1 down",
		"connection sync (follows VI_1): master sync daemon (mcast=eth0)",
		"virtual_server web: TCP 192.0.2.100:80 wlc dr (healthy weight 3, quorum 1)",
		"192.0.2.21:80", "UP",
		"VI_1: MASTER WITHOUT ITS VIPS: the interface holds -", "VI_1: VIP operation failing, retried: add 192.0.2.100/24: too many open files",
		"socket eth0/ipv4: 4 adverts for VRIDs not run here, 2 dropped by the kernel",
		"IPVS changed outside lvsd and mended 1 times (2 operations)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
}
