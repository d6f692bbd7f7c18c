package vrrp

import (
	"errors"
	"net"
	"slices"
	"syscall"
	"testing"
)

// fakeSock is an announcement socket; the test decides which fail.
type fakeSock struct {
	id     int
	closed bool
}

func (s *fakeSock) Close() error { s.closed = true; return nil }

// A send that fails (the pending ENETDOWN of a socket whose link went
// down and up) closes the socket and goes through on a new one; a send
// that fails again is reported and leaves no socket cached; a socket of
// an index that is gone is replaced before any send.
func TestSendOnReopensOnce(t *testing.T) {
	var l LinkAnnouncer
	conns := map[string]*linkConn[*fakeSock]{}
	ifi := &net.Interface{Name: "eth0", Index: 2}
	var opened []*fakeSock
	open := func(*net.Interface) (*fakeSock, error) {
		s := &fakeSock{id: len(opened)}
		opened = append(opened, s)
		return s, nil
	}
	failing := map[int]bool{} // socket ids whose writes fail
	var wrote []int
	write := func(s *fakeSock) error {
		if failing[s.id] {
			return syscall.ENETDOWN
		}
		wrote = append(wrote, s.id)
		return nil
	}

	if err := sendOn(&l, conns, ifi, open, write); err != nil || len(opened) != 1 {
		t.Fatalf("first send: %v, %d sockets opened; want nil and 1", err, len(opened))
	}
	failing[0] = true // the link flapped: socket 0 holds ENETDOWN
	if err := sendOn(&l, conns, ifi, open, write); err != nil {
		t.Fatalf("send after the flap: %v; want it through on a new socket", err)
	}
	if !opened[0].closed || len(opened) != 2 || conns["eth0"].c != opened[1] || l.Retries.Load() != 1 {
		t.Errorf("socket 0 closed %t, %d opened, %d retries; want it closed, socket 1 cached, 1 retry",
			opened[0].closed, len(opened), l.Retries.Load())
	}
	failing[1], failing[2] = true, true
	if err := sendOn(&l, conns, ifi, open, write); !errors.Is(err, syscall.ENETDOWN) {
		t.Errorf("send failing twice: %v, want ENETDOWN", err)
	}
	if len(opened) != 3 || !opened[1].closed || !opened[2].closed || conns["eth0"] != nil {
		t.Errorf("%d opened, cached %v; want 3, both closed, none cached", len(opened), conns["eth0"])
	}
	if err := sendOn(&l, conns, ifi, open, write); err != nil || len(opened) != 4 {
		t.Errorf("send once the link works: %v, %d opened", err, len(opened))
	}
	recreated := &net.Interface{Name: "eth0", Index: 9}
	if err := sendOn(&l, conns, recreated, open, write); err != nil || !opened[3].closed || conns["eth0"].index != 9 {
		t.Errorf("recreated interface: %v, old closed %t, cached index %d; want a socket on index 9",
			err, opened[3].closed, conns["eth0"].index)
	}
	if want := []int{0, 1, 3, 4}; !slices.Equal(wrote, want) {
		t.Errorf("written through sockets %v, want %v", wrote, want)
	}
}
