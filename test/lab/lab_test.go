//go:build lab

// The namespace lab tier: go test -tags lab -count=1 -v ./test/lab/...
// Needs root; never skips.

package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

var (
	addrA  = netip.MustParsePrefix("192.0.2.1/24")
	addrB  = netip.MustParsePrefix("192.0.2.2/24")
	addrA6 = netip.MustParsePrefix("2001:db8::1/64")
	addrB6 = netip.MustParsePrefix("2001:db8::2/64")
	echoA  = "192.0.2.1:7000"
)

// TestMain fails the run if any namespace of this process survives all
// tests: with -count=N this catches leaks that a single run would not.
func TestMain(m *testing.M) {
	code := m.Run()
	prefix := namePrefix + strconv.FormatInt(int64(os.Getpid()), 36) + "-"
	entries, _ := os.ReadDir(netnsDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			fmt.Fprintf(os.Stderr, "LEAK: namespace %s left after the tests\n", e.Name())
			code = 1
		}
	}
	os.Exit(code)
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the lab tier needs root (network namespaces, bind mounts): run go test -tags lab as root")
	}
}

// pair is the smallest lab: hosts a and b on network lan, a echoing on
// echoA.
func pair(t *testing.T) (a, b *Host, la, lb *Link) {
	t.Helper()
	needRoot(t)
	l := New(t)
	lan := l.Network("lan")
	a, b = l.Host("a"), l.Host("b")
	la, lb = a.Connect(lan, addrA, addrA6), b.Connect(lan, addrB, addrB6)
	echoServer(t, a, echoA)
	return a, b, la, lb
}

// echoServer listens on addr inside h and echoes every connection until
// the test ends.
func echoServer(t *testing.T, h *Host, addr string) {
	t.Helper()
	var ln net.Listener
	err := h.Do(func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, h.Name(), err)
	}
	// Registered after the lab's cleanup, so it runs first: an open
	// socket would keep the namespace alive.
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.Copy(c, c)
			}()
		}
	}()
}

// exchange connects from h to addr within timeout and checks that a few
// bytes come back.
func exchange(h *Host, addr string, timeout time.Duration) error {
	return h.Do(func() error {
		d := net.Dialer{Timeout: timeout}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		msg := []byte("lvsd lab " + h.Name())
		if _, err := c.Write(msg); err != nil {
			return err
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			return err
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo returned %q, want %q", got, msg)
		}
		return nil
	})
}

func mustExchange(t *testing.T, h *Host, addr string) {
	t.Helper()
	start := time.Now()
	if err := exchange(h, addr, 2*time.Second); err != nil {
		t.Fatalf("%s -> %s: %v", h.Name(), addr, err)
	}
	t.Logf("%s -> %s: echoed in %v", h.Name(), addr, time.Since(start).Round(time.Microsecond))
}

// mustTimeOut checks that a connection from h to addr times out (a
// silent drop), not that it is refused or unreachable.
func mustTimeOut(t *testing.T, h *Host, addr string) {
	t.Helper()
	const timeout = 300 * time.Millisecond
	start := time.Now()
	err := exchange(h, addr, timeout)
	took := time.Since(start)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%s -> %s: got %v, want a connect timeout", h.Name(), addr, err)
	}
	if took > timeout+time.Second {
		t.Fatalf("%s -> %s: timeout took %v", h.Name(), addr, took)
	}
	t.Logf("%s -> %s: timed out after %v as expected", h.Name(), addr, took.Round(time.Millisecond))
}

// linkState reads the host side's operstate and flags.
func linkState(t *testing.T, l *Link) (oper string, up, lowerUp bool) {
	t.Helper()
	st, err := l.state()
	if err != nil {
		t.Fatal(err)
	}
	return st.OperState.String(), st.Flags&net.FlagUp != 0, st.RawFlags&unix.IFF_LOWER_UP != 0
}

func TestTwoHostsReachEachOther(t *testing.T) {
	a, b, la, lb := pair(t)
	if la.Name() != "eth0" || lb.Name() != "eth0" {
		t.Errorf("interfaces named %s, %s; want eth0", la.Name(), lb.Name())
	}
	mustExchange(t, b, echoA)
	echoServer(t, b, "192.0.2.2:7001")
	mustExchange(t, a, "192.0.2.2:7001")
	// IPv6 works at once: Connect adds addresses without DAD.
	echoServer(t, b, "[2001:db8::2]:7002")
	mustExchange(t, a, "[2001:db8::2]:7002")
	if got := la.Addrs(); !slices.Equal(got, []netip.Prefix{addrA, addrA6}) {
		t.Errorf("Addrs() = %v", got)
	}
}

func TestCutIsSilentAndHealRestores(t *testing.T) {
	_, b, _, lb := pair(t)
	mustExchange(t, b, echoA)

	lb.Cut()
	mustTimeOut(t, b, echoA)
	oper, up, lowerUp := linkState(t, lb)
	t.Logf("cut: b/eth0 operstate %s, UP %v, LOWER_UP %v", oper, up, lowerUp)
	if oper != "up" || !up || !lowerUp {
		t.Fatalf("cut link lost carrier: operstate %s UP %v LOWER_UP %v; want up/true/true", oper, up, lowerUp)
	}
	if c, err := lb.Carrier(); err != nil || !c {
		t.Fatalf("Carrier() = %v, %v during cut; want true", c, err)
	}

	lb.Heal()
	mustExchange(t, b, echoA)
}

func TestDownDropsCarrierAndUpRestores(t *testing.T) {
	_, b, _, lb := pair(t)
	mustExchange(t, b, echoA)

	lb.Down()
	oper, up, lowerUp := linkState(t, lb)
	t.Logf("down: b/eth0 operstate %s, UP %v, LOWER_UP %v", oper, up, lowerUp)
	if oper == "up" || !up || lowerUp {
		t.Fatalf("down: operstate %s UP %v LOWER_UP %v; want not up, admin UP, no LOWER_UP", oper, up, lowerUp)
	}
	if c, err := lb.Carrier(); err != nil || c {
		t.Fatalf("Carrier() = %v, %v while down; want false", c, err)
	}
	addrs, err := b.sp.nl.AddrList(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: lb.index}}, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 {
		t.Fatalf("addresses while down: %v, %v; want the one from Connect", addrs, err)
	}
	mustTimeOut(t, b, echoA)

	// The first exchange after Up may wait up to 1s: the connect tried
	// while down left an INCOMPLETE ARP entry (carrier loss flushed the
	// old one) whose next probe is on the kernel's 1s retransmit timer.
	lb.Up()
	oper, _, lowerUp = linkState(t, lb)
	if oper != "up" || !lowerUp {
		t.Fatalf("up: operstate %s LOWER_UP %v", oper, lowerUp)
	}
	mustExchange(t, b, echoA)
}

func TestProcessRunsInHostNamespace(t *testing.T) {
	needRoot(t)
	l := New(t)
	a := l.Host("a")
	a.Connect(l.Network("lan"), addrA)

	var out bytes.Buffer
	cmd := a.Command(context.Background(), "/bin/cat", "/proc/net/dev")
	cmd.Stdout = &out
	if err := a.Run(cmd); err != nil {
		t.Fatalf("cat /proc/net/dev in a: %v", err)
	}
	if got := devNames(out.String()); !slices.Equal(got, []string{"eth0", "lo"}) {
		t.Fatalf("a sees interfaces %v, want [eth0 lo]", got)
	}
	root, _ := os.ReadFile("/proc/net/dev")
	t.Logf("a sees [eth0 lo]; the root namespace has %v", devNames(string(root)))

	// A long-running child is really in a's namespace, not just seeing it.
	sleeper := a.Command(context.Background(), "/bin/sleep", "30")
	if err := a.Start(sleeper); err != nil {
		t.Fatal(err)
	}
	want, err := netnsInode(filepath.Join(netnsDir, a.Netns()))
	if err != nil || want == 0 {
		t.Fatalf("namespace inode of a: %d, %v", want, err)
	}
	if got := procNetns(sleeper.Process.Pid); got != want {
		t.Fatalf("child's netns inode %d, want a's %d", got, want)
	}

	// Tools outside Go find the namespace by name (keepalived, ip netns).
	if ip, err := exec.LookPath("ip"); err == nil {
		out, err := exec.Command(ip, "netns", "exec", a.Netns(), "/bin/cat", "/proc/net/dev").Output()
		if err != nil || !slices.Equal(devNames(string(out)), []string{"eth0", "lo"}) {
			t.Fatalf("ip netns exec %s: %v, %v", a.Netns(), devNames(string(out)), err)
		}
	} else {
		t.Log("no ip binary: ip netns exec compatibility not checked")
	}
}

// devNames lists the interfaces in /proc/net/dev text, sorted.
func devNames(procNetDev string) []string {
	var names []string
	for _, line := range strings.Split(procNetDev, "\n") {
		name, _, ok := strings.Cut(line, ":")
		if ok && !strings.Contains(name, "|") {
			names = append(names, strings.TrimSpace(name))
		}
	}
	slices.Sort(names)
	return names
}

func TestDoPropagatesAndRestoresThreads(t *testing.T) {
	needRoot(t)
	l := New(t)
	a := l.Host("a")
	rootIno := procNetns(os.Getpid())

	sentinel := errors.New("sentinel")
	if err := a.Do(func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Fatalf("Do returned %v, want the sentinel", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want boom", r)
			}
		}()
		a.Do(func() error { panic("boom") })
	}()

	// Goexit (what t.FailNow does) in fn ends the calling goroutine too.
	returned := make(chan bool)
	go func() {
		ret := false
		defer func() { returned <- ret }()
		a.Do(func() error { runtime.Goexit(); return nil })
		ret = true
	}()
	if <-returned {
		t.Fatal("Do returned after fn called runtime.Goexit")
	}

	// Many concurrent Do calls, each checking it really is in a.
	aIno, _ := netnsInode(filepath.Join(netnsDir, a.Netns()))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			errs <- a.Do(func() error {
				link, err := os.Readlink("/proc/thread-self/ns/net")
				if err != nil {
					return err
				}
				if want := fmt.Sprintf("net:[%d]", aIno); link != want {
					return fmt.Errorf("thread in %s, want %s", link, want)
				}
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Every thread of the process is back in the root namespace.
	if bad := threadsIn(t, map[uint64]bool{aIno: true}); len(bad) > 0 {
		t.Fatalf("threads %v still in a's namespace", bad)
	}
	if got := procNetns(os.Getpid()); got != rootIno {
		t.Fatalf("main thread moved from %d to %d", rootIno, got)
	}
}

// threadsIn lists this process's threads in one of inodes.
func threadsIn(t *testing.T, inodes map[uint64]bool) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, task := range tasks {
		link, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/net")
		if err == nil && inodes[nsLinkInode(link)] {
			bad = append(bad, task.Name())
		}
	}
	return bad
}

func nsLinkInode(link string) uint64 {
	s, ok := strings.CutPrefix(link, "net:[")
	if !ok {
		return 0
	}
	n, _ := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	return n
}

func TestSysctlAndRoutesAcrossTwoNetworks(t *testing.T) {
	needRoot(t)
	l := New(t)
	front, back := l.Network("front"), l.Network("back")
	client, router, server := l.Host("client"), l.Host("router"), l.Host("server")
	client.Connect(front, netip.MustParsePrefix("198.51.100.2/24"))
	router.Connect(front, netip.MustParsePrefix("198.51.100.1/24"))
	if r1 := router.Connect(back, netip.MustParsePrefix("203.0.113.1/24")); r1.Name() != "eth1" {
		t.Fatalf("router's second link is %s, want eth1", r1.Name())
	}
	server.Connect(back, netip.MustParsePrefix("203.0.113.2/24"))
	if err := client.AddRoute(netip.MustParsePrefix("203.0.113.0/24"), netip.MustParseAddr("198.51.100.1")); err != nil {
		t.Fatal(err)
	}
	if err := server.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("203.0.113.1")); err != nil {
		t.Fatal(err)
	}
	echoServer(t, server, "203.0.113.2:7000")

	rootBefore := readSysctl(t, nil)
	mustTimeOut(t, client, "203.0.113.2:7000") // the router does not forward yet
	if err := router.Sysctl("net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	mustExchange(t, client, "203.0.113.2:7000")

	if got := readSysctl(t, router); got != "1" {
		t.Errorf("router ip_forward = %s, want 1", got)
	}
	if got := readSysctl(t, client); got != "0" {
		t.Errorf("client ip_forward = %s, want 0 (sysctl leaked across namespaces)", got)
	}
	if got := readSysctl(t, nil); got != rootBefore {
		t.Errorf("root ip_forward changed from %s to %s", rootBefore, got)
	}
	if err := router.Sysctl("kernel.hostname", "x"); err == nil {
		t.Error("Sysctl accepted a machine-wide key")
	}
}

// readSysctl reads ip_forward in h, or in the root namespace for nil.
func readSysctl(t *testing.T, h *Host) string {
	t.Helper()
	var b []byte
	read := func() (err error) {
		b, err = os.ReadFile("/proc/sys/net/ipv4/ip_forward")
		return err
	}
	var err error
	if h == nil {
		err = read()
	} else {
		err = h.Do(read)
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestNeighbor(t *testing.T) {
	a, b, la, lb := pair(t)
	mustExchange(t, b, echoA)
	mac, state, ok := b.Neighbor(addrA.Addr())
	if !ok || !bytes.Equal(mac, la.MAC()) {
		t.Fatalf("b's neighbour entry for a: %v %v %v; want a's MAC %v", mac, state, ok, la.MAC())
	}
	t.Logf("b: %v lladdr %v %v", addrA.Addr(), mac, state)
	if mac, _, ok := a.Neighbor(addrB.Addr()); !ok || !bytes.Equal(mac, lb.MAC()) {
		t.Fatalf("a's neighbour entry for b: %v %v; want %v", mac, ok, lb.MAC())
	}
	echoServer(t, a, "[2001:db8::1]:7002")
	mustExchange(t, b, "[2001:db8::1]:7002")
	if mac, state, ok := b.Neighbor(addrA6.Addr()); !ok || !bytes.Equal(mac, la.MAC()) {
		t.Fatalf("b's IPv6 neighbour entry for a: %v %v %v; want %v", mac, state, ok, la.MAC())
	}
	if _, _, ok := b.Neighbor(netip.MustParseAddr("192.0.2.99")); ok {
		t.Fatal("entry for an address nobody used")
	}
}

func TestCleanupLeavesNothing(t *testing.T) {
	needRoot(t)
	rootBefore := rootLinks(t)
	var (
		names   []string
		inodes  = map[uint64]bool{}
		sleeper *exec.Cmd
	)
	t.Run("lab", func(t *testing.T) {
		l := New(t)
		lan := l.Network("lan")
		a, b := l.Host("a"), l.Host("b")
		a.Connect(lan, addrA)
		b.Connect(lan, addrB)
		b.Connect(l.Network("other"), netip.MustParsePrefix("198.51.100.2/24"))
		echoServer(t, a, echoA)
		for _, n := range []string{a.Netns(), b.Netns(), lan.Netns()} {
			names = append(names, n)
			ino, err := netnsInode(filepath.Join(netnsDir, n))
			if err != nil || ino == 0 {
				t.Fatalf("inode of %s: %d, %v", n, ino, err)
			}
			inodes[ino] = true
		}
		sleeper = a.Command(context.Background(), "/bin/sleep", "60")
		if err := a.Start(sleeper); err != nil {
			t.Fatal(err)
		}
		// A daemon that leaves its process group (setsid -f forks, the
		// parent exits at once) is found by its namespace instead.
		// (Its parent is reaped by Run: cleanup must not signal that
		// process group id, which could belong to someone else by then.)
		if err := b.Run(b.Command(context.Background(), "/usr/bin/setsid", "-f", "/bin/sleep", "61")); err != nil {
			t.Fatal(err)
		}
		if pids, _ := procsIn(inodes); len(pids) < 2 {
			t.Fatalf("processes in the lab: %v, want sleeper and escaped daemon", pids)
		}
	})

	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(netnsDir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still in %s (%v)", n, netnsDir, err)
		}
	}
	if pids, err := procsIn(inodes); err != nil || len(pids) > 0 {
		t.Errorf("processes left in lab namespaces: %v %v", pids, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- sleeper.Wait() }()
	select {
	case err := <-waited:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("sleeper ended with %v, want killed", err)
		}
	case <-time.After(3 * time.Second):
		t.Error("sleeper still running after cleanup")
	}
	if after := rootLinks(t); !slices.Equal(after, rootBefore) {
		t.Errorf("root namespace links changed: before %v, after %v", rootBefore, after)
	}
	if bad := threadsIn(t, inodes); len(bad) > 0 {
		t.Errorf("threads %v still in lab namespaces", bad)
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if link, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && inodes[nsLinkInode(link)] {
			t.Errorf("fd %s still refers to lab namespace %s", fd.Name(), link)
		}
	}
}

// rootLinks lists the root namespace's interfaces (the test goroutine's
// thread never leaves it).
func rootLinks(t *testing.T) []string {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	slices.Sort(names)
	return names
}

func TestNewSweepsStaleLabs(t *testing.T) {
	needRoot(t)
	if err := prepareNetnsDir(); err != nil {
		t.Fatal(err)
	}
	dead := deadPid(t)
	staleHost := nsID{pid: dead, kind: kindHost, name: "old"}.String()
	staleNet := nsID{pid: dead, kind: kindNetwork, name: "old"}.String()
	ownOld := nsID{pid: os.Getpid(), seq: 1 << 40, kind: kindHost, name: "old"}.String() // our pid, no open lab
	live := nsID{pid: 1, kind: kindHost, name: "keep"}.String()                          // pid 1 is alive
	foreign := fmt.Sprintf("lvsdtest-foreign-%d", os.Getpid())                           // not the scheme

	handles := map[string]*netlink.Handle{}
	for _, name := range []string{staleHost, staleNet, ownOld, live, foreign} {
		ns, err := createNetns(name)
		if err != nil {
			t.Fatal(err)
		}
		nl, err := netlink.NewHandleAt(ns)
		ns.Close()
		if err != nil {
			t.Fatal(err)
		}
		handles[name] = nl
		t.Cleanup(func() { removeNetnsFile(filepath.Join(netnsDir, name)) })
	}
	// A leftover wired like a lab, with a process still inside.
	hostNS, err := netns.GetFromPath(filepath.Join(netnsDir, staleHost))
	if err != nil {
		t.Fatal(err)
	}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "p0"}, PeerName: "eth0", PeerNamespace: netlink.NsFd(hostNS)}
	if err := handles[staleNet].LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("/bin/sleep", "60")
	sleeper.SysProcAttr = &unix.SysProcAttr{Setpgid: true, Pdeathsig: unix.SIGKILL}
	if err := inNetns(hostNS, sleeper.Start); err != nil {
		t.Fatal(err)
	}
	hostNS.Close()
	defer sleeper.Process.Kill()
	for _, nl := range handles {
		nl.Close() // our sockets must not be what keeps them alive
	}

	start := time.Now()
	New(t)
	t.Logf("New with stale sweep took %v", time.Since(start).Round(time.Millisecond))

	for _, gone := range []string{staleHost, staleNet, ownOld} {
		if _, err := os.Lstat(filepath.Join(netnsDir, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale %s not swept (%v)", gone, err)
		}
	}
	for _, kept := range []string{live, foreign} {
		if _, err := os.Lstat(filepath.Join(netnsDir, kept)); err != nil {
			t.Errorf("%s was removed: %v", kept, err)
		}
	}
	waited := make(chan error, 1)
	go func() { waited <- sleeper.Wait() }()
	select {
	case err := <-waited:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("process in stale namespace ended with %v, want killed", err)
		}
	case <-time.After(3 * time.Second):
		t.Error("process in stale namespace still running")
	}
}

// deadPid returns the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if pidAlive(cmd.Process.Pid) {
		t.Fatalf("pid %d reused already", cmd.Process.Pid)
	}
	return cmd.Process.Pid
}

// Sweep is for make, between runs; here it is confined to this test's own
// lab so it cannot touch a lab tier running elsewhere on the machine.
func TestSweepRemovesLiveLabAndCleanupCopes(t *testing.T) {
	needRoot(t)
	l := New(t)
	a := l.Host("a")
	a.Connect(l.Network("lan"), addrA)
	if err := a.Start(a.Command(context.Background(), "/bin/sleep", "60")); err != nil {
		t.Fatal(err)
	}
	removed, err := sweep(func(id nsID) bool { return id.prefix() == l.Prefix() })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{l.Prefix() + "-h-a", l.Prefix() + "-n-lan"}
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	// The lab's own cleanup then runs on an already swept lab and must
	// not report errors.
}

// TestChildSurvivesDiscardedThreads: code that enters a namespace on a
// locked thread and discards the thread (goroutine exits locked, as
// ipvs.Connections does) must not kill the lab's processes through their
// parent-death signal, whichever thread it lands on.
func TestChildSurvivesDiscardedThreads(t *testing.T) {
	l := New(t)
	h := l.Host("a")
	cmd := h.Command(context.Background(), "/bin/sleep", "60")
	if err := h.Start(cmd); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread() // never unlocked: the thread is discarded
			close(done)
		}()
		<-done
	}
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(unix.Signal(0)); err != nil {
		t.Fatalf("the lab's child died with a discarded thread: %v", err)
	}
	var ws unix.WaitStatus
	if pid, _ := unix.Wait4(cmd.Process.Pid, &ws, unix.WNOHANG, nil); pid != 0 {
		t.Fatalf("the lab's child exited: %v", ws)
	}
}
