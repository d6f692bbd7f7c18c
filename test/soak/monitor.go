package soak

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Monitor follows who holds the VIP from frequent samples: the longest
// time with no holder and with two, per fault kind, and whether the VIP
// left the host a quiet fault must not move it from. Safe for one
// sampling goroutine and the soak's.
type Monitor struct {
	mu     sync.Mutex
	kind   Kind   // the fault under way
	expect string // the sole holder a quiet fault must leave alone; "" none
	moved  string // the first sample that broke expect, described

	last      time.Time
	none, two span // open spans of no holder and of two
	longNone  map[Kind]time.Duration
	longTwo   map[Kind]time.Duration
}

// span is an open interval of one condition, charged to the kind of the
// fault under way when it began.
type span struct {
	open  bool
	since time.Time
	kind  Kind
}

// NewMonitor makes a monitor whose first fault is kind.
func NewMonitor(kind Kind) *Monitor {
	return &Monitor{kind: kind, longNone: map[Kind]time.Duration{}, longTwo: map[Kind]time.Duration{}}
}

// Begin starts fault kind; expect is the host that must hold the VIP,
// alone, throughout, or "" when the fault may move it.
func (m *Monitor) Begin(kind Kind, expect string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kind, m.expect, m.moved = kind, expect, ""
}

// Moved is the first sample since Begin in which the expected host was
// not the sole holder, or "".
func (m *Monitor) Moved() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.moved
}

// Observe records who held the VIP at at.
func (m *Monitor) Observe(at time.Time, holders []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = at
	m.none.track(at, len(holders) == 0, m.kind, m.longNone)
	m.two.track(at, len(holders) > 1, m.kind, m.longTwo)
	if m.expect != "" && m.moved == "" && !slices.Equal(holders, []string{m.expect}) {
		m.moved = fmt.Sprintf("at %s the VIP was held by [%s], not by %s alone", at.Format("15:04:05.000"), strings.Join(holders, " "), m.expect)
	}
}

func (s *span) track(at time.Time, holds bool, kind Kind, longest map[Kind]time.Duration) {
	switch {
	case holds && !s.open:
		*s = span{open: true, since: at, kind: kind}
	case !holds && s.open:
		s.open = false
		longest[s.kind] = max(longest[s.kind], at.Sub(s.since))
	}
}

// Longest is the longest time with no holder and with two holders that
// began during faults of kind, an interval still open counted to the
// last sample.
func (m *Monitor) Longest(kind Kind) (none, two time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	none, two = m.longNone[kind], m.longTwo[kind]
	if m.none.open && m.none.kind == kind {
		none = max(none, m.last.Sub(m.none.since))
	}
	if m.two.open && m.two.kind == kind {
		two = max(two, m.last.Sub(m.two.since))
	}
	return none, two
}
