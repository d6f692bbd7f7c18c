package soak

import (
	"fmt"
	"time"
)

// calm is what a quiet fault must leave as it found it: the VIP with its
// holder alone, no gratuitous ARP for it from anyone else, and no
// transition in the lvsd daemons it does not restart or unplug. A flip
// and back within milliseconds (a frozen backup that takes over and
// yields at once) slips between the monitor's samples, but not past the
// observer's capture or the daemon's transition count.
type calm struct {
	holder *node
	since  time.Time
	still  map[*node]uint64 // lvsd directors that must make no transition: their count before
}

// calmBefore notes the calm a quiet fault f on target must keep, or nil
// when f may move the VIP or the pair was not whole.
func (p *pair) calmBefore(f Fault, target *node) *calm {
	holder := p.sole()
	if !f.quiet() || holder == nil {
		return nil
	}
	c := &calm{holder: holder, since: time.Now(), still: map[*node]uint64{}}
	for _, n := range p.nodes {
		if n.lvsd == nil || n == target && (f.Kind == Kill || f.Kind == LinkFlap) {
			continue // restarted, or rightly in FAULT while unplugged
		}
		if in := n.lvsd.Instance(); in.Name != "" {
			c.still[n] = in.Transitions
		}
	}
	return c
}

// calmAfter says how the fault broke the calm; moved is Monitor.Moved.
func (p *pair) calmAfter(c *calm, moved string) []string {
	if c == nil {
		return nil
	}
	var problems []string
	if moved != "" {
		problems = append(problems, "a fault that must leave the master alone moved the VIP: "+moved)
	}
	for _, n := range p.nodes {
		if n == c.holder {
			continue
		}
		if at, ok := p.arps.First(c.since, vip, n.link.MAC()); ok {
			problems = append(problems, fmt.Sprintf("a fault that must leave the master alone: %s announced the VIP (gratuitous ARP %s after the fault began)",
				n.name, at.Sub(c.since).Round(time.Millisecond)))
		}
	}
	for n, before := range c.still {
		in := n.lvsd.Instance()
		if in.Name == "" || in.Transitions == before {
			continue
		}
		last := ""
		if tr := in.LastTransition; tr != nil {
			last = fmt.Sprintf(", the last %s → %s: %s", tr.From, tr.To, tr.Cause)
		}
		problems = append(problems, fmt.Sprintf("a fault that must leave the master alone: lvsd on %s made %d transitions%s", n.name, in.Transitions-before, last))
	}
	return problems
}
