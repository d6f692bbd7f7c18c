package vrrp

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// groupPair runs two directors with instances VI_1 and VI_2 in one sync
// group on each: hi (priority 150) and lo (100).
func groupPair(t *testing.T) (hi, lo [2]*node) {
	w1, w2 := &wire{}, &wire{} // one link per instance's network
	mk := func(ip1, ip2 string, prio uint8) [2]*node {
		g := NewGroup("edge")
		c1, c2 := testConfig("VI_1", prio), testConfig("VI_2", prio)
		c2.VRID = 52
		var nodes [2]*node
		observe := func(n *node) {
			n.onEvent = func(e Event) { g.Observe(e) }
			n.group = g
		}
		nodes[0] = w1.add(t, ip1, c1, nil, observe)
		nodes[1] = w2.add(t, ip2, c2, nil, observe)
		g.Add(nodes[0].inst)
		g.Add(nodes[1].inst)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go g.Run(ctx)
		return nodes
	}
	hi = mk("192.0.2.11", "198.51.100.11", 150)
	lo = mk("192.0.2.12", "198.51.100.12", 100)
	return hi, lo
}

func states(ns [2]*node) [2]State { return [2]State{ns[0].state(), ns[1].state()} }

func TestSyncGroupFaultMovesAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hi, lo := groupPair(t)
		time.Sleep(10 * time.Second)
		if states(hi) != [2]State{Master, Master} || states(lo) != [2]State{Backup, Backup} {
			t.Fatalf("hi %v, lo %v", states(hi), states(lo))
		}
		// VI_1's tracked interface fails on hi: VI_2 follows it to FAULT
		// and lo takes over both.
		hi[0].inst.SetInterface("eth1", false)
		time.Sleep(5 * time.Second)
		if states(hi) != [2]State{Fault, Fault} || states(lo) != [2]State{Master, Master} {
			t.Fatalf("after fault: hi %v, lo %v; want FAULT,FAULT and MASTER,MASTER", states(hi), states(lo))
		}
		if hi[1].holds() {
			t.Error("VI_2 holds its VIP in FAULT")
		}
		hi[0].inst.SetInterface("eth1", true)
		time.Sleep(10 * time.Second)
		if states(hi) != [2]State{Master, Master} || states(lo) != [2]State{Backup, Backup} {
			t.Fatalf("after recovery: hi %v, lo %v", states(hi), states(lo))
		}
	})
}

// One member losing its master alone (its network fails silently) does
// not move half the group: the backup director waits while its other
// member still hears a master.
func TestSyncGroupHoldsBackHalfTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hi, lo := groupPair(t)
		time.Sleep(10 * time.Second)
		hi[0].kill()
		time.Sleep(10 * time.Second)
		if states(lo) != [2]State{Backup, Backup} || hi[1].state() != Master {
			t.Errorf("lo %v, hi VI_2 %s; want lo to hold back while hi's VI_2 is alive", states(lo), hi[1].state())
		}
		if lo[0].holds() || lo[1].holds() {
			t.Error("lo holds a VIP")
		}
	})
}

// The whole master director dies: the backup takes over every member.
func TestSyncGroupWholeTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hi, lo := groupPair(t)
		time.Sleep(10 * time.Second)
		hi[0].kill()
		hi[1].kill()
		time.Sleep(5 * time.Second)
		if states(lo) != [2]State{Master, Master} {
			t.Errorf("lo %v; want both MASTER", states(lo))
		}
	})
}

// A member's own fault that comes while it is already in FAULT because of
// the group keeps the group down when the first member recovers.
func TestSyncGroupFaultWhileFaulted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hi, lo := groupPair(t)
		time.Sleep(10 * time.Second)
		hi[0].inst.SetInterface("eth0", false) // VI_1 faults, the group faults VI_2
		time.Sleep(time.Second)
		hi[1].inst.SetInterface("eth1", false) // VI_2's own fault, already in FAULT
		hi[0].inst.SetInterface("eth0", true)  // VI_1 recovers; VI_2 still down
		time.Sleep(10 * time.Second)
		if states(hi) != [2]State{Fault, Fault} || states(lo) != [2]State{Master, Master} {
			t.Fatalf("hi %v, lo %v; want the group held in FAULT on hi", states(hi), states(lo))
		}
		hi[1].inst.SetInterface("eth1", true)
		time.Sleep(10 * time.Second)
		if states(hi) != [2]State{Master, Master} || states(lo) != [2]State{Backup, Backup} {
			t.Errorf("after both recovered: hi %v, lo %v", states(hi), states(lo))
		}
	})
}
