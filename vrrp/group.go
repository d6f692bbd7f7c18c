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
