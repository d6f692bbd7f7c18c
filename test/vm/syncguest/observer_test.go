//go:build vmguest

package syncguest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	stdsync "sync"
	"testing"
	"time"

	lvsync "github.com/lvsd/lvsd/sync"
	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/vm/guestns"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv4"
)

const (
	vip        = "198.51.100.100:80"
	syncWindow = 30 * time.Second // the master flushes its buffer every 2 s (IPVS_SYNC_FLUSH_TIME); TCG is slow
)

// observed collects the distinct connections an observer decoded.
type observed struct {
	mu    stdsync.Mutex
	conns map[lvsync.ConnKey]int // entries per connection
}

func (o *observed) add(from netip.Addr, m lvsync.Message, err error) {
	if err != nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range m.Conns {
		o.conns[c.Key()]++
	}
}

func (o *observed) distinct(virtual netip.AddrPort) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for k := range o.conns {
		if !k.Template && k.Protocol == 6 && k.Virtual == virtual {
			n++
		}
	}
	return n
}

// countVIP counts the TCP entries for vip in the namespace's IPVS table.
func countVIP(t *testing.T, ns string) int {
	t.Helper()
	hexIP, hexPort := hexAddrPort(vip)
	n := 0
	for _, r := range connTable(t, ns) {
		if len(r) >= 8 && r[0] == "TCP" && r[3] == hexIP && r[4] == hexPort {
			n++
		}
	}
	return n
}

// TestObserverCountsKernelConnections: director A runs a TCP service on a
// VIP (a local real server, so local-node forwarding) and a master sync
// daemon on its veth to B; B runs a backup sync daemon and, beside it on
// the same group and port, an Observer. Clients in B open connections
// through A's IPVS and keep them open. The observer must count exactly
// the connections A's kernel holds, and B's kernel must have received
// them too; over an IPv4 group, datagrams that are not sync messages must
// be counted as decode errors of the right kind without disturbing
// anything. The IPv6 group carries the same IPv4 connections: the sync
// transport's family is independent of the service's.
//
//	B sb0 192.0.2.2 ── veth ── 192.0.2.1 (and .3) sa0 A, VIP 198.51.100.100 on lo
func TestObserverCountsKernelConnections(t *testing.T) {
	t.Run("IPv4 group 224.0.0.81", func(t *testing.T) { observeLab(t, "4", lvsync.DefaultGroup, 24, 1) })
	t.Run("IPv6 group ff32:20:2001:db8::81", func(t *testing.T) {
		observeLab(t, "6", netip.MustParseAddr("ff32:20:2001:db8::81"), 8, 1)
	})
	// With sync_ports 4 the master's four threads send to ports
	// 8848-8851, each connection on the one its hash picks: the observer
	// must listen on all four to count every connection.
	t.Run("IPv4 group, sync_ports 4", func(t *testing.T) { observeLab(t, "p", lvsync.DefaultGroup, 24, 4) })
}

func observeLab(t *testing.T, suffix string, group netip.Addr, clients, syncPorts int) {
	a, b := newNetns(t, "sync-dir"+suffix), newNetns(t, "sync-peer"+suffix)
	for _, ns := range []string{a, b} {
		err := guestns.In(ns, func() error {
			return os.WriteFile("/proc/sys/net/ipv4/vs/sync_ports", []byte(strconv.Itoa(syncPorts)), 0o644)
		})
		if err != nil {
			t.Fatalf("sync_ports %d: %v", syncPorts, err)
		}
	}
	guestns.Veth(t, "sa0", a, "sb0", b)
	guestns.Configure(t, a, func(h *netlink.Handle) error {
		return errors.Join(guestns.AddAddr(h, "sa0", "192.0.2.1/24"), guestns.AddAddr(h, "sa0", "192.0.2.3/24"),
			guestns.AddAddr(h, "lo", "198.51.100.100/32"))
	})
	guestns.Configure(t, b, func(h *netlink.Handle) error {
		if err := guestns.AddAddr(h, "sb0", "192.0.2.2/24"); err != nil {
			return err
		}
		_, dst, _ := net.ParseCIDR("198.51.100.100/32")
		return h.RouteAdd(&netlink.Route{Dst: dst, Gw: net.ParseIP("192.0.2.1")})
	})

	// The service, with A's own address as the real server: IPVS forces
	// local-node forwarding for a local destination.
	lab.Ipvsadm(t, a, "-A", "-t", vip, "-s", "rr")
	lab.Ipvsadm(t, a, "-a", "-t", vip, "-r", "192.0.2.1:80", "-g")
	var ln net.Listener
	if err := guestns.In(a, func() (err error) { ln, err = net.Listen("tcp4", ":80"); return }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()

	cfgA := lvsync.Config{Interface: "sa0", SyncID: 51, Group: group}.WithDefaults()
	cfgB := cfgA
	cfgB.Interface = "sb0"
	ka, kb := openKernel(t, a), openKernel(t, b)
	if err := ka.Start(lvsync.Master, cfgA); err != nil {
		t.Fatal(err)
	}
	if err := kb.Start(lvsync.Backup, cfgB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ka.Stop(lvsync.Master); kb.Stop(lvsync.Backup) })

	var obs *lvsync.Observer
	if err := guestns.In(b, func() (err error) { obs, err = lvsync.Observe(cfgB); return }); err != nil {
		t.Fatalf("Observe beside the kernel's backup daemon: %v", err)
	}
	seen := &observed{conns: map[lvsync.ConnKey]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- obs.Run(ctx, seen.add) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("observer Run: %v", err)
		}
		obs.Close()
	})

	// Clients in B: each connection sends two requests, so the director
	// sees at least 3 packets from the client (SYN, ACK, data), the
	// sync_threshold at which the master syncs it.
	for i := range clients {
		var c net.Conn
		if err := guestns.In(b, func() (err error) { c, err = net.DialTimeout("tcp4", vip, 5*time.Second); return }); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		rd := bufio.NewReader(c)
		for j := range 2 {
			msg := fmt.Sprintf("client %d request %d\n", i, j)
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, msg); err != nil {
				t.Fatal(err)
			}
			if got, err := rd.ReadString('\n'); err != nil || got != msg {
				t.Fatalf("client %d: echo %q, %v", i, got, err)
			}
		}
	}

	// Wait until the counts agree; they must agree exactly: every
	// connection is held open and ESTABLISHED, so it is in the master's
	// table, and it was synced once it passed the threshold.
	virtual := netip.MustParseAddrPort(vip)
	var master, backup, observer int
	deadline := time.Now().Add(syncWindow)
	start := time.Now()
	for {
		master, backup, observer = countVIP(t, a), countVIP(t, b), seen.distinct(virtual)
		if master == clients && backup == clients && observer == clients {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: master table %d, backup table %d, observer %d distinct connections; want %d each",
				syncWindow, master, backup, observer, clients)
		}
		time.Sleep(200 * time.Millisecond)
	}
	snap := obs.Snapshot()
	if snap.Ports != syncPorts || snap.Port != lvsync.DefaultPort {
		t.Errorf("observer on %d ports from %d, want %d from %d", snap.Ports, snap.Port, syncPorts, lvsync.DefaultPort)
	}
	// The master sends from its interface's address: the primary IPv4 one
	// (bind_mcastif_addr), or for IPv6 the source the route picks, the
	// link-local one for a link-local group.
	if len(snap.Peers) != 1 || (group.Is4() && snap.Peers[0].Addr != netip.MustParseAddr("192.0.2.1")) ||
		(group.Is6() && !snap.Peers[0].Addr.IsLinkLocalUnicast()) {
		t.Fatalf("peers %+v, want only the master's address on sa0", snap.Peers)
	}
	p := snap.Peers[0]
	if p.SyncID != 51 || p.Errors != 0 || p.Messages == 0 || p.Conns < uint64(clients) || p.LastSeen.IsZero() {
		t.Errorf("master peer %+v", p)
	}
	t.Logf("SYNC FIGURES (group %s, from %s): %d connections in the master's table, %d in the backup's, %d distinct seen by the observer "+
		"(tolerance 0) in %d messages carrying %d connection entries, %d bytes, within %v",
		group, p.Addr, master, backup, observer, p.Messages, p.Conns, p.Bytes, time.Since(start).Round(100*time.Millisecond))
	if group.Is6() {
		return
	}

	// Datagrams from another source on the link that are not sync
	// messages: counted by kind, never fatal.
	bad := [][]byte{
		{0xde, 0xad, 0xbe},                     // shorter than the header
		{0, 51, 0, 100, 0, 1, 0, 0},            // header says 100 bytes
		{0, 51, 0, 12, 1, 1, 0, 0, 0, 0, 0, 0}, // one entry, truncated
	}
	if err := guestns.In(a, func() error {
		pc, err := net.ListenPacket("udp4", "192.0.2.3:0")
		if err != nil {
			return err
		}
		defer pc.Close()
		ifi, err := net.InterfaceByName("sa0")
		if err != nil {
			return err
		}
		if err := ipv4.NewPacketConn(pc).SetMulticastInterface(ifi); err != nil {
			return err
		}
		dst := &net.UDPAddr{IP: net.IP(cfgA.Group.AsSlice()), Port: int(cfgA.Port)}
		for _, d := range bad {
			if _, err := pc.WriteTo(d, dst); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("send malformed datagrams: %v", err)
	}
	want := map[lvsync.ErrorKind]uint64{lvsync.KindShort: 1, lvsync.KindSize: 1, lvsync.KindTruncated: 1}
	for deadline := time.Now().Add(10 * time.Second); ; {
		snap = obs.Snapshot()
		if snap.Errors[lvsync.KindShort] == 1 && snap.Errors[lvsync.KindSize] == 1 && snap.Errors[lvsync.KindTruncated] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("errors by kind %v, want %v", snap.Errors, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var sender lvsync.PeerStats
	for _, p := range snap.Peers {
		if p.Addr == netip.MustParseAddr("192.0.2.3") {
			sender = p
		}
	}
	if sender.Datagrams != 3 || sender.Errors != 3 || sender.Messages != 0 {
		t.Errorf("malformed sender %+v, want 3 datagrams, 3 errors", sender)
	}
	t.Logf("SYNC ERRORS: %v from %s; the master's peer still has %d errors", snap.Errors, sender.Addr, snap.Peers[0].Errors)

	// The sync stream and the backup are unharmed: one more connection
	// reaches both.
	var c net.Conn
	if err := guestns.In(b, func() (err error) { c, err = net.DialTimeout("tcp4", vip, 5*time.Second); return }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		io.WriteString(c, "more\n")
	}
	for deadline := time.Now().Add(syncWindow); seen.distinct(virtual) != clients+1 || countVIP(t, b) != clients+1; {
		if time.Now().After(deadline) {
			t.Fatalf("the connection after the malformed datagrams: observer %d, backup %d, want %d",
				seen.distinct(virtual), countVIP(t, b), clients+1)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
