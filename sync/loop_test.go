package sync

import (
	"io"
	"log/slog"
	"net"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func runningStates(t *testing.T, f *Fake) []State {
	t.Helper()
	ds, err := f.Daemons()
	if err != nil {
		t.Fatal(err)
	}
	var out []State
	for _, d := range ds {
		out = append(out, d.State)
	}
	return out
}

// The loop follows its instance's transitions in order, without the
// instance waiting, applies a changed configuration, and stops its daemons.
func TestLoopFollowsTransitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := NewFake()
		l := StartLoop(t.Context(), fake, nil, base, "VI_1", quietLog)
		if got := runningStates(t, fake); !slices.Equal(got, []State{Backup}) {
			t.Fatalf("at start: %v; want the backup daemon until the instance is master", got)
		}
		for _, step := range []struct {
			master bool
			want   []State
		}{{true, []State{Master}}, {false, []State{Backup}}, {true, []State{Master}}} {
			l.SetState(step.master)
			synctest.Wait()
			if got := runningStates(t, fake); !slices.Equal(got, step.want) {
				t.Errorf("after master=%v: %v; want %v", step.master, got, step.want)
			}
		}
		changed := base
		changed.TTL = 2
		l.Update(changed)
		if ds, _ := fake.Daemons(); len(ds) != 1 || ds[0].Config.TTL != 2 || l.Config().TTL != 2 {
			t.Errorf("after Update: %v, config %v", ds, l.Config())
		}
		if st := l.Status(); st.Instance != "VI_1" || !st.Follower.Master || st.Observed != nil {
			t.Errorf("status %+v", st)
		}
		l.Stop()
		if got := runningStates(t, fake); len(got) != 0 {
			t.Errorf("after Stop: %v running", got)
		}
	})
}

// Without an instance both daemons run at once; the observer counts what
// arrives and is closed by Stop.
func TestLoopWithoutInstanceObserves(t *testing.T) {
	fake := NewFake()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	obs := newObserver(Config{Interface: "lo", Group: DefaultGroup, Port: 8848}, pc)
	l := StartLoop(t.Context(), fake, obs, base, "", quietLog)
	if got := runningStates(t, fake); !slices.Equal(got, []State{Master, Backup}) {
		t.Errorf("without an instance: %v; want both daemons", got)
	}
	tx, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if _, err := tx.Write(kernelMessage()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Status().Observed.Totals().Messages == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := l.Status(); st.Observed == nil || st.Observed.Totals().Conns != 2 || st.Observed.Totals().Templates != 1 {
		t.Errorf("observed %+v", st.Observed)
	}
	l.Stop() // returns only once the observer's reader ended
	if got := runningStates(t, fake); len(got) != 0 {
		t.Errorf("after Stop: %v running", got)
	}
	if _, _, err := pc.ReadFrom(make([]byte, 1)); err == nil {
		t.Error("the observer's socket is still open after Stop")
	}
}
