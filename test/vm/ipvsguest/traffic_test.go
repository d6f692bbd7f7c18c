//go:build vmguest

package ipvsguest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/test/vm/guestns"
	"github.com/vishvananda/netlink"
)

// natLab builds a NAT director between a client and a real server, for
// both families, and starts TCP and UDP echo servers on the real server's
// port 8080 (UDP 5353). Replies route back through the director.
//
//	client 203.0.113.2    ── 203.0.113.1    dir 198.51.100.1  ── 198.51.100.21  rs
//	       2001:db8:c::2  ── 2001:db8:c::1      2001:db8:d::1 ── 2001:db8:d::21
//	VIPs 192.0.2.100 and 2001:db8::100 on dir's lo
func natLab(t *testing.T) (client, dir, rs string) {
	t.Helper()
	client, dir, rs = guestns.New(t, "client"), guestns.New(t, "dir"), guestns.New(t, "rs")
	guestns.Veth(t, "c0", client, "d0", dir)
	guestns.Veth(t, "d1", dir, "r0", rs)
	guestns.Configure(t, client, func(h *netlink.Handle) error {
		return errors.Join(guestns.AddAddr(h, "c0", "203.0.113.2/24"), guestns.AddAddr(h, "c0", "2001:db8:c::2/64"),
			addRoute(h, "192.0.2.0/24", "203.0.113.1"), addRoute(h, "2001:db8::/64", "2001:db8:c::1"))
	})
	guestns.Configure(t, dir, func(h *netlink.Handle) error {
		return errors.Join(guestns.AddAddr(h, "d0", "203.0.113.1/24"), guestns.AddAddr(h, "d0", "2001:db8:c::1/64"),
			guestns.AddAddr(h, "d1", "198.51.100.1/24"), guestns.AddAddr(h, "d1", "2001:db8:d::1/64"),
			guestns.AddAddr(h, "lo", "192.0.2.100/32"), guestns.AddAddr(h, "lo", "2001:db8::100/128"))
	})
	guestns.Configure(t, rs, func(h *netlink.Handle) error {
		return errors.Join(guestns.AddAddr(h, "r0", "198.51.100.21/24"), guestns.AddAddr(h, "r0", "2001:db8:d::21/64"),
			addRoute(h, "0.0.0.0/0", "198.51.100.1"), addRoute(h, "::/0", "2001:db8:d::1"))
	})
	if err := guestns.In(dir, func() error {
		return errors.Join(os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644),
			os.WriteFile("/proc/sys/net/ipv6/conf/all/forwarding", []byte("1"), 0o644))
	}); err != nil {
		t.Fatalf("forwarding in dir: %v", err)
	}
	var ln net.Listener
	var pc net.PacketConn
	if err := guestns.In(rs, func() (err error) {
		if ln, err = net.Listen("tcp", ":8080"); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp", ":5353")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); pc.Close() })
	go echoServer(ln)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return client, dir, rs
}

// dial connects from the client namespace.
func dial(t *testing.T, ns, network, addr string) net.Conn {
	t.Helper()
	var c net.Conn
	if err := guestns.In(ns, func() (err error) { c, err = net.DialTimeout(network, addr, 5*time.Second); return }); err != nil {
		t.Fatalf("%s to %s through the director: %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestConnectionSurvivesRestartAndUpdate runs real traffic through a NAT
// director and shows that neither a restart (new handle, new reconciler,
// same desired table: zero ops) nor an in-place update (scheduler, weight)
// touches an established connection.
func TestConnectionSurvivesRestartAndUpdate(t *testing.T) {
	client, dir, _ := natLab(t)
	k := openKernel(t, dir)
	web := ipvs.Service{Address: addr("192.0.2.100"), Port: 80, Protocol: ipvs.TCP, Scheduler: "wlc"}
	server := ipvs.Destination{Address: addr("198.51.100.21"), Port: 8080, Weight: 1, Forwarding: ipvs.NAT}
	desired := []ipvs.Entry{entry(web, []ipvs.Destination{server})}
	if _, err := ipvs.NewReconciler(k).Apply(desired); err != nil {
		t.Fatal(err)
	}

	conn := dial(t, client, "tcp", "192.0.2.100:80")
	rd := bufio.NewReader(conn)
	echo(t, conn, rd, "before")
	clientAP := netip.MustParseAddrPort(conn.LocalAddr().String())
	first := findConn(t, dir, clientAP)
	t.Logf("connection: %+v", first)

	// The connection table is per namespace: the root one has none of it.
	if rootConns, err := ipvs.Connections(""); err != nil {
		t.Errorf("Connections(root): %v", err)
	} else if len(rootConns) != 0 {
		t.Errorf("root namespace shows connections %+v", rootConns)
	}

	// Restart: a new process would open a new handle and adopt the table.
	restarted := openKernel(t, dir)
	if ops, err := ipvs.NewReconciler(restarted).Apply(desired); err != nil || len(ops) != 0 {
		t.Fatalf("apply after restart: %v %v; want no ops", opStrings(ops), err)
	}
	echo(t, conn, rd, "after restart")

	// An in-place update: the kernel keeps service and destination, so the
	// connection keeps its real server.
	web.Scheduler, server.Weight = "rr", 2
	desired = []ipvs.Entry{entry(web, []ipvs.Destination{server})}
	ops, err := ipvs.NewReconciler(restarted).Apply(desired)
	want := []string{
		"update-service tcp 192.0.2.100:80 scheduler wlc→rr",
		"update-destination tcp 192.0.2.100:80 198.51.100.21:8080 weight 1→2",
	}
	if err != nil || strings.Join(opStrings(ops), "\n") != strings.Join(want, "\n") {
		t.Fatalf("update: %q %v; want %q", opStrings(ops), err, want)
	}
	echo(t, conn, rd, "after update")
	after := findConn(t, dir, clientAP)
	if after.Destination != first.Destination || after.State != "ESTABLISHED" {
		t.Errorf("connection after update %+v, before %+v", after, first)
	}

	// The same service object all along: its counters kept counting. The
	// kernel (6.1) folds its per-CPU counters into the totals it reports
	// every 2 s, from its rate estimator: wait for that.
	var st []ipvs.ServiceStats
	for deadline := time.Now().Add(6 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var err error
		st, err = restarted.Stats()
		if err != nil || len(st) != 1 || len(st[0].Destinations) != 1 {
			t.Fatalf("Stats: %+v %v", st, err)
		}
		if st[0].Counters.Conns > 0 || time.Now().After(deadline) {
			break
		}
	}
	c, d := st[0].Counters, st[0].Destinations[0]
	t.Logf("service counters %+v; destination active %d inactive %d", c, d.ActiveConns, d.InactiveConns)
	if c.Conns != 1 || c.PacketsIn < 4 || c.BytesIn == 0 || d.ActiveConns != 1 || d.Counters.Conns != 1 {
		t.Errorf("stats after three echoes on one connection: service %+v, destination %+v", c, d)
	}
}

func findConn(t *testing.T, ns string, client netip.AddrPort) ipvs.Connection {
	t.Helper()
	conns, err := ipvs.Connections(ns)
	if err != nil {
		t.Fatalf("Connections(%s): %v", ns, err)
	}
	for _, c := range conns {
		if c.Client == client {
			want := ipvs.Connection{Protocol: ipvs.TCP, Client: client, Virtual: netip.MustParseAddrPort("192.0.2.100:80"),
				Destination: netip.MustParseAddrPort("198.51.100.21:8080"), State: "ESTABLISHED", Expires: c.Expires}
			if c != want || c.Expires <= 0 || c.Expires > 15*time.Minute {
				t.Errorf("connection %+v, want %+v with 0 < expires <= 15m", c, want)
			}
			return c
		}
	}
	t.Fatalf("no connection from %s in %+v", client, conns)
	return ipvs.Connection{}
}

// TestConnectionTable makes an IPv6 TCP connection and a UDP flow to a
// persistent service, then reads the director's connection table: the
// entries, the persistence template, and (logged) the raw text, which
// ipvs/conn_test.go keeps as its sample.
func TestConnectionTable(t *testing.T) {
	client, dir, _ := natLab(t)
	k := openKernel(t, dir)
	web6 := ipvs.Service{Address: addr("2001:db8::100"), Port: 80, Protocol: ipvs.TCP, IPv6: true, Scheduler: "wlc"}
	dns := ipvs.Service{Address: addr("192.0.2.100"), Port: 53, Protocol: ipvs.UDP, Scheduler: "rr", Persistence: time.Minute, PersistenceBits: 24}
	desired := []ipvs.Entry{
		entry(web6, []ipvs.Destination{{Address: addr("2001:db8:d::21"), Port: 8080, Weight: 1, Forwarding: ipvs.NAT}}),
		entry(dns, []ipvs.Destination{{Address: addr("198.51.100.21"), Port: 5353, Weight: 1, Forwarding: ipvs.NAT}}),
	}
	if _, err := ipvs.NewReconciler(k).Apply(desired); err != nil {
		t.Fatal(err)
	}
	tcp := dial(t, client, "tcp", "[2001:db8::100]:80")
	echo(t, tcp, bufio.NewReader(tcp), "over IPv6")
	udp := dial(t, client, "udp", "192.0.2.100:53")
	echo(t, udp, bufio.NewReader(udp), "over UDP")

	var raw []byte
	if err := guestns.In(dir, func() (err error) { raw, err = os.ReadFile("/proc/thread-self/net/ip_vs_conn"); return }); err != nil {
		t.Fatal(err)
	}
	t.Logf("raw ip_vs_conn of dir:\n%s", raw)
	conns, err := ipvs.Connections(dir)
	if err != nil {
		t.Fatal(err)
	}
	tcpAP := netip.MustParseAddrPort(tcp.LocalAddr().String())
	udpAP := netip.MustParseAddrPort(udp.LocalAddr().String())
	want := map[string]ipvs.Connection{
		"tcp6": {Protocol: ipvs.TCP, Client: tcpAP, Virtual: netip.MustParseAddrPort("[2001:db8::100]:80"),
			Destination: netip.MustParseAddrPort("[2001:db8:d::21]:8080"), State: "ESTABLISHED"},
		"udp": {Protocol: ipvs.UDP, Client: udpAP, Virtual: netip.MustParseAddrPort("192.0.2.100:53"),
			Destination: netip.MustParseAddrPort("198.51.100.21:5353"), State: "UDP"},
		// The persistence template: the client's network under the
		// service's netmask (/24), port 0; ASSURED once it has been used.
		"template": {Protocol: ipvs.UDP, Client: netip.MustParseAddrPort("203.0.113.0:0"), Virtual: netip.MustParseAddrPort("192.0.2.100:53"),
			Destination: netip.MustParseAddrPort("198.51.100.21:5353"), State: "ASSURED"},
	}
	for name, w := range want {
		found := false
		for _, c := range conns {
			if c.Expires <= 0 {
				t.Errorf("%+v has no time left", c)
			}
			c.Expires = 0
			if c.State == "NONE" {
				c.State = "ASSURED" // a template not yet used
			}
			found = found || c == w
		}
		if !found {
			t.Errorf("no %s entry %+v in %+v", name, w, conns)
		}
	}
	if len(conns) != len(want) {
		t.Errorf("%d connections, want %d: %+v", len(conns), len(want), conns)
	}
}

func echoServer(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() { defer c.Close(); io.Copy(c, c) }()
	}
}

func echo(t *testing.T, conn net.Conn, rd *bufio.Reader, msg string) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintln(conn, msg); err != nil {
		t.Fatalf("send %q: %v", msg, err)
	}
	line, err := rd.ReadString('\n')
	if err != nil || line != msg+"\n" {
		t.Fatalf("echo of %q: %q, %v", msg, line, err)
	}
}

func addRoute(h *netlink.Handle, dst, gw string) error {
	_, n, err := net.ParseCIDR(dst)
	if err != nil {
		return err
	}
	if err := h.RouteAdd(&netlink.Route{Dst: n, Gw: net.ParseIP(gw)}); err != nil {
		return fmt.Errorf("route %s via %s: %w", dst, gw, err)
	}
	return nil
}
