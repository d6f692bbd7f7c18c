package ipvs

import (
	"net/netip"
	"slices"
	"testing"
)

// director runs the policy and the reconciler together, as the daemon
// does on each health transition.
type director struct {
	t  *testing.T
	vs VirtualService
	q  QuorumState
	f  *Fake
	r  *Reconciler
}

func newDirector(t *testing.T, vs VirtualService) *director {
	f := NewFake()
	return &director{t: t, vs: vs, f: f, r: NewReconciler(f)}
}

// set marks the real server at addr healthy or not, then reconciles and
// expects exactly want.
func (d *director) set(addr string, healthy bool, want ...string) {
	d.t.Helper()
	i := slices.IndexFunc(d.vs.RealServers, func(rs RealServer) bool { return rs.Destination.Address == netip.MustParseAddr(addr) })
	d.vs.RealServers[i].Healthy = healthy
	d.apply(want...)
}

func (d *director) apply(want ...string) {
	d.t.Helper()
	apply(d.t, d.r, d.f, []Entry{d.vs.Desired(&d.q)}, want...)
}

func servers(healthy bool, ds ...Destination) []RealServer {
	out := make([]RealServer, len(ds))
	for i, d := range ds {
		out[i] = RealServer{Destination: d, Healthy: healthy}
	}
	return out
}

func TestFailedServerRemovedOrInhibited(t *testing.T) {
	t.Run("removed", func(t *testing.T) {
		d := newDirector(t, VirtualService{Service: web(), Quorum: 1, RealServers: servers(true, rs1, rs2)})
		d.apply(
			"create-service tcp 192.0.2.100:80 scheduler=wlc",
			"create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=3",
			"create-destination tcp 192.0.2.100:80 198.51.100.22:80 nat weight=1",
		)
		d.set("198.51.100.21", false, "delete-destination tcp 192.0.2.100:80 198.51.100.21:80")
		d.set("198.51.100.21", true, "create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=3")
	})
	t.Run("inhibit_on_failure", func(t *testing.T) {
		d := newDirector(t, VirtualService{Service: web(), Quorum: 1, InhibitOnFailure: true, RealServers: servers(true, rs1, rs2)})
		d.apply(
			"create-service tcp 192.0.2.100:80 scheduler=wlc",
			"create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=3",
			"create-destination tcp 192.0.2.100:80 198.51.100.22:80 nat weight=1",
		)
		// Weight 0, not a delete: established connections carry on.
		d.set("198.51.100.21", false, "update-destination tcp 192.0.2.100:80 198.51.100.21:80 weight 3→0")
		d.set("198.51.100.21", true, "update-destination tcp 192.0.2.100:80 198.51.100.21:80 weight 0→3")
	})
}

func TestQuorumSorryServerWithHysteresis(t *testing.T) {
	a, b, c := dst("198.51.100.21", 80, 2), dst("198.51.100.22", 80, 2), dst("198.51.100.23", 80, 1)
	sorry := dst("192.0.2.99", 80, 0)
	// Down below 4−1 = 3, up again at 4+1 = 5.
	d := newDirector(t, VirtualService{Service: web(), Quorum: 4, Hysteresis: 1, Sorry: &sorry, RealServers: servers(true, a, b, c)})
	d.apply(
		"create-service tcp 192.0.2.100:80 scheduler=wlc",
		"create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=2",
		"create-destination tcp 192.0.2.100:80 198.51.100.22:80 nat weight=2",
		"create-destination tcp 192.0.2.100:80 198.51.100.23:80 nat weight=1",
	)
	// 4: below quorum but within the hysteresis: still up.
	d.set("198.51.100.23", false, "delete-destination tcp 192.0.2.100:80 198.51.100.23:80")
	if d.q.Down() {
		t.Fatal("down at healthy weight 4")
	}
	// 2 < 3: down. The sorry server comes in first, then the real servers
	// go, the healthy one too.
	d.set("198.51.100.22", false,
		"create-destination tcp 192.0.2.100:80 192.0.2.99:80 nat weight=1",
		"delete-destination tcp 192.0.2.100:80 198.51.100.21:80",
		"delete-destination tcp 192.0.2.100:80 198.51.100.22:80",
	)
	if !d.q.Down() {
		t.Fatal("up at healthy weight 2")
	}
	// 4 is back at the quorum but not at quorum+hysteresis: stays down.
	d.set("198.51.100.22", true)
	// 5: up. Real servers in, then the sorry server out.
	d.set("198.51.100.23", true,
		"create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=2",
		"create-destination tcp 192.0.2.100:80 198.51.100.22:80 nat weight=2",
		"create-destination tcp 192.0.2.100:80 198.51.100.23:80 nat weight=1",
		"delete-destination tcp 192.0.2.100:80 192.0.2.99:80",
	)
	if d.q.Down() {
		t.Fatal("down at healthy weight 5")
	}
}

func TestQuorumDownWithInhibit(t *testing.T) {
	a, b := dst("198.51.100.21", 80, 2), dst("198.51.100.22", 80, 2)
	sorry := dst("192.0.2.99", 80, 5)
	d := newDirector(t, VirtualService{Service: web(), Quorum: 3, Sorry: &sorry, InhibitOnFailure: true, RealServers: servers(true, a, b)})
	d.apply(
		"create-service tcp 192.0.2.100:80 scheduler=wlc",
		"create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=2",
		"create-destination tcp 192.0.2.100:80 198.51.100.22:80 nat weight=2",
	)
	d.set("198.51.100.22", false,
		"create-destination tcp 192.0.2.100:80 192.0.2.99:80 nat weight=5",
		"update-destination tcp 192.0.2.100:80 198.51.100.21:80 weight 2→0",
		"update-destination tcp 192.0.2.100:80 198.51.100.22:80 weight 2→0",
	)
	d.set("198.51.100.22", true,
		"update-destination tcp 192.0.2.100:80 198.51.100.21:80 weight 0→2",
		"update-destination tcp 192.0.2.100:80 198.51.100.22:80 weight 0→2",
		"delete-destination tcp 192.0.2.100:80 192.0.2.99:80",
	)
}

func TestDesiredEdges(t *testing.T) {
	a := dst("198.51.100.21", 80, 2)
	t.Run("down without sorry server keeps the healthy servers", func(t *testing.T) {
		vs := VirtualService{Service: web(), Quorum: 5, RealServers: servers(true, a)}
		var q QuorumState
		e := vs.Desired(&q)
		if !q.Down() || !slices.Equal(e.Destinations, []Destination{a}) {
			t.Errorf("down %v, destinations %v; want down with %v", q.Down(), e.Destinations, a)
		}
	})
	t.Run("sorry server that is also a real server", func(t *testing.T) {
		sorry := a
		sorry.Weight = 9
		vs := VirtualService{Service: web(), Quorum: 1, Sorry: &sorry, InhibitOnFailure: true, RealServers: servers(false, a)}
		e := vs.Desired(nil)
		if !slices.Equal(e.Destinations, []Destination{sorry}) {
			t.Errorf("destinations %v, want only the sorry server %v", e.Destinations, sorry)
		}
	})
	t.Run("first call decides by the quorum alone", func(t *testing.T) {
		vs := VirtualService{Service: web(), Quorum: 2, Hysteresis: 1, RealServers: servers(true, a)}
		var q QuorumState
		vs.Desired(&q)
		if q.Down() {
			t.Error("down at healthy weight 2 = quorum on the first call")
		}
	})
	t.Run("healthy weight", func(t *testing.T) {
		vs := VirtualService{RealServers: []RealServer{{a, true}, {dst("198.51.100.22", 80, 7), false}, {dst("198.51.100.23", 80, 3), true}}}
		if got := vs.HealthyWeight(); got != 5 {
			t.Errorf("HealthyWeight = %d, want 5", got)
		}
	})
}
