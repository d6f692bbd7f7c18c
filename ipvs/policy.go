package ipvs

// RealServer is a destination of a virtual service with its health, as
// the health checks last decided it.
type RealServer struct {
	Destination Destination
	Healthy     bool
}

// VirtualService is a service with the director's policy for its real
// servers (keepalived's virtual_server semantics). Desired turns it into
// the table entry to reconcile; it does no I/O.
type VirtualService struct {
	Service Service
	// Quorum is the healthy weight the service needs to be up; Hysteresis
	// widens it into a band to stop flapping: the service goes down below
	// Quorum−Hysteresis and comes back at Quorum+Hysteresis.
	Quorum, Hysteresis int
	// Sorry, if set, replaces the real servers while the service is down.
	Sorry *Destination
	// InhibitOnFailure keeps a failed server with weight 0 instead of
	// removing it, so its established connections carry on.
	InhibitOnFailure bool
	RealServers      []RealServer
}

// QuorumState remembers whether a virtual service is up between calls of
// Desired, which hysteresis needs. The zero value knows nothing yet: the
// first call decides by the quorum alone.
type QuorumState struct {
	known, down bool
}

// Down reports whether the service was down at the last Desired.
func (q *QuorumState) Down() bool { return q.known && q.down }

// update moves the state for a healthy weight sum and reports whether the
// service is down.
func (q *QuorumState) update(sum, quorum, hysteresis int) bool {
	switch {
	case !q.known:
		q.down = sum < quorum
	case !q.down && sum < quorum-hysteresis:
		q.down = true
	case q.down && sum >= quorum+hysteresis:
		q.down = false
	}
	q.known = true
	return q.down
}

// HealthyWeight is the sum of the weights of the healthy real servers, the
// figure compared with the quorum.
func (vs *VirtualService) HealthyWeight() int {
	sum := 0
	for _, rs := range vs.RealServers {
		if rs.Healthy {
			sum += rs.Destination.Weight
		}
	}
	return sum
}

// Desired returns the table entry for vs and moves q (nil: no memory, so
// no hysteresis).
//
// Up: healthy servers with their weights; failed ones removed, or kept with
// weight 0 under InhibitOnFailure. Down with a sorry server: the sorry
// server (weight 1 if none is set) and no real server, or every real server
// with weight 0 under InhibitOnFailure. Down without a sorry server: as up,
// as keepalived does; a degraded service still beats an empty one.
func (vs *VirtualService) Desired(q *QuorumState) Entry {
	if q == nil {
		q = &QuorumState{}
	}
	down := q.update(vs.HealthyWeight(), vs.Quorum, vs.Hysteresis)
	sorry := down && vs.Sorry != nil
	var dests []Destination
	for _, rs := range vs.RealServers {
		d := rs.Destination
		switch {
		case rs.Healthy && !sorry:
			dests = append(dests, d)
		case vs.InhibitOnFailure:
			d.Weight = 0
			dests = append(dests, d)
		}
	}
	if sorry {
		s := *vs.Sorry
		if s.Weight == 0 {
			s.Weight = 1 // conf leaves it unset; weight 0 would take no traffic
		}
		// The sorry server may also be a real server: it wins.
		i := 0
		for _, d := range dests {
			if d.Key() != s.Key() {
				dests[i] = d
				i++
			}
		}
		dests = append(dests[:i], s)
	}
	return Entry{Service: vs.Service, Destinations: dests}
}
