package soak

import (
	"strings"
	"testing"
	"time"
)

// TestMonitor: gaps and double holders are timed from the samples and
// charged to the fault under way when they began; a quiet fault's
// expected holder is checked on every sample.
func TestMonitor(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	m := NewMonitor(kindReset)
	m.Observe(at(0), []string{"dir-a"})

	m.Begin(Kill, "")
	m.Observe(at(100), nil) // the gap begins under kill
	m.Begin(Drill, "")
	m.Observe(at(1900), []string{"dir-b"}) // and ends under drill: still kill's
	m.Observe(at(2000), []string{"dir-a", "dir-b"})
	m.Observe(at(2500), []string{"dir-a"})
	if none, two := m.Longest(Kill); none != 1800*time.Millisecond || two != 0 {
		t.Errorf("kill: no holder %s, two %s", none, two)
	}
	if none, two := m.Longest(Drill); none != 0 || two != 500*time.Millisecond {
		t.Errorf("drill: no holder %s, two %s", none, two)
	}

	m.Begin(StopBackup, "dir-a")
	m.Observe(at(2600), []string{"dir-a"})
	if got := m.Moved(); got != "" {
		t.Errorf("moved %q while dir-a held alone", got)
	}
	m.Observe(at(2700), []string{"dir-a", "dir-b"})
	m.Observe(at(2800), nil)
	if got := m.Moved(); !strings.Contains(got, "[dir-a dir-b], not by dir-a alone") {
		t.Errorf("moved %q, want the first deviation", got)
	}
	// A span still open counts up to the last sample.
	if none, two := m.Longest(StopBackup); none != 0 || two != 100*time.Millisecond {
		t.Errorf("stop-backup: no holder %s, two %s", none, two)
	}
	m.Observe(at(3000), nil)
	if none, _ := m.Longest(StopBackup); none != 200*time.Millisecond {
		t.Errorf("stop-backup: open gap %s, want 200ms", none)
	}
	m.Begin(Reload, "dir-a")
	if m.Moved() != "" {
		t.Error("Begin keeps the last fault's deviation")
	}
}
