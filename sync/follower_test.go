package sync

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
)

var base = Config{Interface: "eth0", SyncID: 51}.WithDefaults()

// callStrings renders the calls compactly: "start master eth0/8848/ttl1".
func callStrings(calls []Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Op.String() + " " + c.State.String()
		if c.Op == OpStart {
			out[i] += fmt.Sprintf(" %s/%d/ttl%d", c.Config.Interface, c.Config.Port, c.Config.TTL)
		}
	}
	return out
}

type step struct {
	name string
	do   func(f *Follower) ([]Action, error)
	// calls is the exact sequence of Start/Stop asked of the kernel.
	calls []string
	// running is what the kernel runs afterwards.
	running []State
}

func runSteps(t *testing.T, fake *Fake, f *Follower, steps []step) {
	t.Helper()
	for _, s := range steps {
		fake.Reset()
		acts, err := s.do(f)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := callStrings(fake.Calls()); !slices.Equal(got, s.calls) {
			t.Errorf("%s: calls %q, want %q", s.name, got, s.calls)
		}
		// Each call is reported as one action, in order.
		var reported []string
		for _, a := range acts {
			if a.Op != OpKeep {
				reported = append(reported, a.Op.String()+" "+a.State.String())
			}
		}
		var asked []string
		for _, c := range fake.Calls() {
			asked = append(asked, c.Op.String()+" "+c.State.String())
		}
		if !slices.Equal(reported, asked) {
			t.Errorf("%s: actions %v do not report the calls %v", s.name, acts, asked)
		}
		ds, _ := fake.Daemons()
		var states []State
		for _, d := range ds {
			states = append(states, d.State)
		}
		if !slices.Equal(states, s.running) {
			t.Errorf("%s: running %v, want %v", s.name, states, s.running)
		}
		st := f.Status()
		if !slices.Equal(st.Running, ds) {
			t.Errorf("%s: status says running %v, kernel has %v", s.name, st.Running, ds)
		}
	}
}

func setState(master bool) func(*Follower) ([]Action, error) {
	return func(f *Follower) ([]Action, error) { return f.SetState(master) }
}

func update(c Config) func(*Follower) ([]Action, error) {
	return func(f *Follower) ([]Action, error) { return f.Update(c) }
}

var (
	start = (*Follower).Start
	stop  = (*Follower).Stop
)

func TestFollowerFollowsVRRP(t *testing.T) {
	fake := NewFake()
	f := NewFollower(fake, Config{Interface: "eth0", SyncID: 51}, true)
	port := base
	port.Port = 9000
	ttl := port
	ttl.TTL = 3
	runSteps(t, fake, f, []step{
		{"before start, backup", setState(false), nil, nil},
		{"start in init", start, []string{"start backup eth0/8848/ttl1"}, []State{Backup}},
		{"init → backup", setState(false), nil, []State{Backup}},
		{"backup → master", setState(true), []string{"start master eth0/8848/ttl1", "stop backup"}, []State{Master}},
		{"master again", setState(true), nil, []State{Master}},
		{"master → fault", setState(false), []string{"start backup eth0/8848/ttl1", "stop master"}, []State{Backup}},
		{"update, same parameters", update(base), nil, []State{Backup}},
		{"update, defaults spelled out", update(Config{Interface: "eth0", SyncID: 51}), nil, []State{Backup}},
		{"update port as backup", update(port), []string{"stop backup", "start backup eth0/9000/ttl1"}, []State{Backup}},
		{"fault → master", setState(true), []string{"start master eth0/9000/ttl1", "stop backup"}, []State{Master}},
		{"update ttl as master", update(ttl), []string{"stop master", "start master eth0/9000/ttl3"}, []State{Master}},
		{"reconcile, nothing to do", (*Follower).Reconcile, nil, []State{Master}},
		{"stop", stop, []string{"stop master"}, nil},
		{"after stop, state change", setState(false), nil, nil},
		{"after stop, update", update(base), nil, nil},
	})
}

func TestFollowerWithoutInstance(t *testing.T) {
	fake := NewFake()
	f := NewFollower(fake, base, false)
	iface := base
	iface.Interface = "eth1"
	both := []State{Master, Backup}
	runSteps(t, fake, f, []step{
		{"start", start, []string{"start master eth0/8848/ttl1", "start backup eth0/8848/ttl1"}, both},
		{"a state means nothing", setState(true), nil, both},
		{"nor its loss", setState(false), nil, both},
		{"same parameters", update(base), nil, both},
		{"new interface", update(iface), []string{"stop master", "start master eth1/8848/ttl1", "stop backup", "start backup eth1/8848/ttl1"}, both},
		{"stop", stop, []string{"stop master", "stop backup"}, nil},
	})
}

// TestFollowerAdopts: a restarted lvsd keeps daemons that run with its
// parameters (no gap in the sync stream), restarts one with other
// parameters, and stops one it does not want.
func TestFollowerAdopts(t *testing.T) {
	other := base
	other.SyncID = 9
	fake := NewFake(Daemon{Master, base}, Daemon{Backup, other})
	f := NewFollower(fake, base, false)
	acts, err := f.Start()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := callStrings(fake.Calls()), []string{"stop backup", "start backup eth0/8848/ttl1"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if len(acts) != 3 || acts[0].Op != OpKeep || acts[0].State != Master || acts[1].Reason != "parameters changed" {
		t.Errorf("actions %v; want keep master, then restart backup", acts)
	}
	if acts[1].Config != other {
		t.Errorf("the stop reports the parameters found %+v, want %+v", acts[1].Config, other)
	}

	// Following an instance in init, a found master daemon is stopped.
	fake = NewFake(Daemon{Master, base})
	f = NewFollower(fake, base, true)
	if _, err := f.Start(); err != nil {
		t.Fatal(err)
	}
	if got, want := callStrings(fake.Calls()), []string{"start backup eth0/8848/ttl1", "stop master"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	// A backup maxlen below 1024 reads back raised: still no restart.
	small := base
	small.MaxLen = 512
	fake = NewFake(Daemon{Backup, small})
	f = NewFollower(fake, small, true)
	if _, err := f.Start(); err != nil || len(fake.Calls()) != 0 {
		t.Errorf("adopting a clamped backup: calls %v, %v", fake.Calls(), err)
	}
}

// TestFollowerFailures: a failed start is reported and retried by the
// next call; a daemon stopped behind the follower's back is restarted; a
// stop that finds nothing is fine.
func TestFollowerFailures(t *testing.T) {
	fake := NewFake()
	fail := true
	fake.Fail = func(c Call) error {
		if fail && c.Op == OpStart && c.State == Master {
			return syscall.ENODEV
		}
		return nil
	}
	f := NewFollower(fake, base, true)
	if _, err := f.Start(); err != nil {
		t.Fatal(err)
	}
	acts, err := f.SetState(true)
	if !errors.Is(err, ErrNoInterface) {
		t.Fatalf("SetState(master) = %v, want ErrNoInterface", err)
	}
	if len(acts) != 2 || acts[0].Err == nil || acts[1].Err != nil || !strings.Contains(acts[0].String(), "failed: ") {
		t.Errorf("actions %v: want a failed start master, then stop backup", acts)
	}
	if st := f.Status(); st.LastError == nil || len(st.Running) != 0 {
		t.Errorf("status after failure: %+v", st)
	}
	fail = false
	fake.Reset()
	if _, err := f.Reconcile(); err != nil {
		t.Fatal(err)
	}
	if got := callStrings(fake.Calls()); !slices.Equal(got, []string{"start master eth0/8848/ttl1"}) {
		t.Errorf("retry: calls %q", got)
	}
	if f.Status().LastError != nil {
		t.Error("status keeps the old error after a successful retry")
	}

	// Someone stops the master daemon (ipvsadm --stop-daemon master).
	fake.Stop(Master)
	fake.Reset()
	f.Reconcile()
	if got := callStrings(fake.Calls()); !slices.Equal(got, []string{"start master eth0/8848/ttl1"}) {
		t.Errorf("after an outside stop: calls %q", got)
	}

	// A stop that races with an outside stop: ESRCH is as good as done.
	fake.Fail = func(c Call) error {
		if c.Op == OpStop {
			return syscall.ESRCH
		}
		return nil
	}
	acts, err = f.Stop()
	if err != nil || len(acts) != 1 || !strings.Contains(acts[0].Reason, "already stopped") {
		t.Errorf("Stop = %v, %v; want one stop, already stopped", acts, err)
	}
}

func TestFollowerRejectsInvalidConfig(t *testing.T) {
	fake := NewFake()
	f := NewFollower(fake, base, false)
	if _, err := f.Start(); err != nil {
		t.Fatal(err)
	}
	fake.Reset()
	bad := base
	bad.Group = netip.MustParseAddr("192.0.2.81")
	if _, err := f.Update(bad); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Update(unicast group) = %v", err)
	}
	if len(fake.Calls()) != 0 || f.Status().Config != base {
		t.Errorf("an invalid update changed something: %v, %+v", fake.Calls(), f.Status().Config)
	}
	if _, err := NewFollower(fake, Config{}, true).Start(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Start with no interface = %v", err)
	}
}
