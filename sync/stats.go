package sync

import (
	"errors"
	"maps"
	"net/netip"
	"slices"
	stdsync "sync"
	"time"
)

// MaxPeers bounds the senders Stats tracks one by one: sources are not
// authenticated, so a flood of forged ones must not grow memory without
// end. Datagrams from further senders are counted in OtherDatagrams.
const MaxPeers = 64

// Stats counts sync datagrams by sender. It is safe for concurrent use.
type Stats struct {
	mu     stdsync.Mutex
	peers  map[netip.Addr]*PeerStats
	errors map[ErrorKind]uint64
	other  uint64
}

// PeerStats is what one sender (source address) sent.
type PeerStats struct {
	Addr      netip.Addr
	SyncID    uint8  // of its last well-formed message
	Datagrams uint64 // everything received from it
	Bytes     uint64
	Messages  uint64 // well-formed messages
	Conns     uint64 // connection entries (a connection recurs on each state change)
	Templates uint64 // persistence template entries
	Errors    uint64 // malformed datagrams
	FirstSeen time.Time
	LastSeen  time.Time
}

// StatsSnapshot is a copy of the counters.
type StatsSnapshot struct {
	Peers          []PeerStats // sorted by address
	Errors         map[ErrorKind]uint64
	OtherDatagrams uint64 // from senders beyond MaxPeers
}

// Totals sums the peers' counters.
func (s StatsSnapshot) Totals() PeerStats {
	var t PeerStats
	for _, p := range s.Peers {
		t.Datagrams += p.Datagrams
		t.Bytes += p.Bytes
		t.Messages += p.Messages
		t.Conns += p.Conns
		t.Templates += p.Templates
		t.Errors += p.Errors
		if p.LastSeen.After(t.LastSeen) {
			t.LastSeen = p.LastSeen
		}
	}
	return t
}

// NewStats returns empty counters.
func NewStats() *Stats {
	return &Stats{peers: map[netip.Addr]*PeerStats{}, errors: map[ErrorKind]uint64{}}
}

// Record decodes datagram b from from, received at now, and counts it. A
// malformed datagram is counted by kind and returned as the error, never
// more.
func (s *Stats) Record(from netip.Addr, b []byte, now time.Time) (Message, error) {
	m, err := ParseMessage(b)
	from = from.Unmap().WithZone("")
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			s.errors[de.Kind]++
		}
	}
	p := s.peers[from]
	if p == nil {
		if len(s.peers) >= MaxPeers {
			s.other++
			return m, err
		}
		p = &PeerStats{Addr: from, FirstSeen: now}
		s.peers[from] = p
	}
	p.Datagrams++
	p.Bytes += uint64(len(b))
	p.LastSeen = now
	if err != nil {
		p.Errors++
		return m, err
	}
	p.Messages++
	p.SyncID = m.SyncID
	for _, c := range m.Conns {
		if c.Template() {
			p.Templates++
		} else {
			p.Conns++
		}
	}
	return m, nil
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := StatsSnapshot{Errors: maps.Clone(s.errors), OtherDatagrams: s.other}
	for _, p := range s.peers {
		snap.Peers = append(snap.Peers, *p)
	}
	slices.SortFunc(snap.Peers, func(a, b PeerStats) int { return a.Addr.Compare(b.Addr) })
	return snap
}
