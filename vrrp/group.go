package vrrp

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// groupCause starts the cause of every transition a sync group forces,
// so that the group does not react to its own doing.
const groupCause = "sync_group "

// ownFaultCleared is the cause of the event a member in FAULT sends when
// its own faults are gone but the group's still holds it.
const ownFaultCleared = "own faults cleared"

// Group makes the instances of a sync_group change state together: one
// entering Fault faults the others; one becoming Master by its own
// election makes the others Master; one stepping down to Backup takes the
// others with it. A member may take over on its own only when no other
// member still hears a master: the group moves whole or not at all, so a
// director never holds half of its VIPs (the outside VIP without the
// inside gateway of a NAT pair).
type Group struct {
	name   string
	events chan Event

	mu      sync.RWMutex
	members map[string]*Instance
}

// NewGroup makes an empty group: Add its members, feed it their events
// with Observe (events that come before Run wait for it), then Run it.
func NewGroup(name string) *Group {
	return &Group{name: name, members: map[string]*Instance{}, events: make(chan Event, 64)}
}

// Add makes in a member; call it before Run.
func (g *Group) Add(in *Instance) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.members[in.cfg.Name] = in
}

// others returns the members other than name.
func (g *Group) others(name string) []*Instance {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []*Instance
	for n, in := range g.members {
		if n != name {
			out = append(out, in)
		}
	}
	return out
}

// Observe hands the group a member's transition; it never blocks.
func (g *Group) Observe(ev Event) {
	if strings.HasPrefix(ev.Cause, groupCause) {
		return
	}
	select {
	case g.events <- ev:
	default:
	}
}

// Run applies members' transitions to the others until ctx ends.
func (g *Group) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-g.events:
			g.follow(ev)
		}
	}
}

func (g *Group) follow(ev Event) {
	key := "group:" + g.name
	cause := fmt.Sprintf("%s%s: %s went %s (%s)", groupCause, g.name, ev.Instance, ev.To, ev.Cause)
	if ev.From == Fault && ev.To == Fault && ev.Cause == ownFaultCleared {
		// The last member with a fault of its own is fine again: lift the
		// group's fault everywhere.
		if g.ownFault() == "" {
			g.mu.RLock()
			members := make([]*Instance, 0, len(g.members))
			for _, m := range g.members {
				members = append(members, m)
			}
			g.mu.RUnlock()
			for _, m := range members {
				m.do(func() { m.setFault(key, groupCause+g.name+": every member recovered", false) })
			}
		}
		return
	}
	if ev.From == Fault && ev.To != Fault {
		// A member recovered; the group stays down while any member still
		// has a fault of its own (one that came while it was already in
		// FAULT raised no event).
		if faulty := g.ownFault(); faulty != "" {
			g.mu.RLock()
			self := g.members[ev.Instance]
			g.mu.RUnlock()
			refault := fmt.Sprintf("%s%s: %s is still in FAULT", groupCause, g.name, faulty)
			self.do(func() { self.setFault(key, refault, true) })
			return
		}
	}
	for _, in := range g.others(ev.Instance) {
		switch {
		case ev.To == Fault:
			in.do(func() { in.setFault(key, cause, true) })
		case ev.From == Fault:
			in.do(func() { in.setFault(key, cause, false) })
		}
		switch ev.To {
		case Master:
			in.do(func() {
				if in.state == Backup {
					in.becomeMaster(cause)
				}
			})
		case Backup:
			if ev.From == Master {
				in.do(func() {
					if in.state == Master {
						in.leaveMaster(true)
						in.armDown()
						in.transition(Backup, cause)
					}
				})
			}
		}
	}
}

// hearsMaster names another member that still follows a live master, or
// returns "" when in may take over.
func (g *Group) hearsMaster(in *Instance) string {
	for _, m := range g.others(in.cfg.Name) {
		if m.followsMaster() {
			return m.cfg.Name
		}
	}
	return ""
}

// SetGroup moves the instance into g (nil: no group), as a reload that
// changes sync groups does.
func (in *Instance) SetGroup(g *Group) {
	in.do(func() { in.deps.Group = g })
}

// ownFault names a member with a fault of its own, or returns "".
func (g *Group) ownFault() string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for name, m := range g.members {
		if m.ownFault.Load() {
			return name
		}
	}
	return ""
}
