package lab

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// openLabs numbers the labs of this process and remembers which are open,
// so the stale sweep can tell this process's live labs from leftovers of
// an earlier process that had the same pid.
var openLabs struct {
	sync.Mutex
	seq  uint64
	open map[string]bool
}

func openLab() string {
	openLabs.Lock()
	defer openLabs.Unlock()
	p := labPrefix(os.Getpid(), openLabs.seq)
	openLabs.seq++
	if openLabs.open == nil {
		openLabs.open = map[string]bool{}
	}
	openLabs.open[p] = true
	return p
}

func closeLab(prefix string) {
	openLabs.Lock()
	defer openLabs.Unlock()
	delete(openLabs.open, prefix)
}

func isOpenLab(prefix string) bool {
	openLabs.Lock()
	defer openLabs.Unlock()
	return openLabs.open[prefix]
}

// Lab is one test's set of hosts and networks. Its methods that build the
// topology (Host, Network, Host.Connect, Link.Cut…) fail the test with
// t.Fatal, so they must be called from the test goroutine.
type Lab struct {
	t      testing.TB
	prefix string

	mu     sync.Mutex
	spaces []*space // hosts and switches, in creation order
	names  map[string]bool
	procs  []*os.Process // process group leaders started with Host.Start
	closed bool
}

// space is one lab namespace with an open handle and a netlink socket in it.
type space struct {
	name string // under /run/netns
	ns   netns.NsHandle
	nl   *netlink.Handle
}

// New makes an empty lab and registers its teardown with t.Cleanup. It
// first removes stale labs left by test processes that died without
// cleaning up. The lab tier needs root; without it New fails the test.
func New(t testing.TB) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("lab: the namespace lab tier needs root (run: sudo go test -tags lab ./test/lab/...)")
	}
	if err := prepareNetnsDir(); err != nil {
		t.Fatal(err)
	}
	l := &Lab{t: t, prefix: openLab(), names: map[string]bool{}}
	t.Cleanup(l.close)
	removed, err := sweepStale()
	for _, name := range removed {
		t.Logf("lab: removed stale namespace %s", name)
	}
	if err != nil {
		t.Logf("lab: stale sweep: %v", err)
	}
	return l
}

// Prefix is the start of the names of this lab's namespaces.
func (l *Lab) Prefix() string { return l.prefix }

// newSpace creates a lab namespace of the given kind, or fails the test.
func (l *Lab) newSpace(kind byte, name string) *space {
	l.t.Helper()
	if err := checkName(name); err != nil {
		l.t.Fatalf("lab: %v", err)
	}
	full := l.prefix + "-" + string(kind) + "-" + name
	l.mu.Lock()
	dup, closed := l.names[full], l.closed
	l.names[full] = true
	l.mu.Unlock()
	if closed {
		l.t.Fatalf("lab: %s %q: lab already cleaned up", kindWord(kind), name)
	}
	if dup {
		l.t.Fatalf("lab: %s %q already exists", kindWord(kind), name)
	}
	ns, err := createNetns(full)
	if err != nil {
		l.t.Fatalf("lab: %s %q: %v", kindWord(kind), name, err)
	}
	s := &space{name: full, ns: ns}
	l.mu.Lock()
	l.spaces = append(l.spaces, s) // from here on, close removes it
	l.mu.Unlock()
	s.nl, err = netlink.NewHandleAt(ns, unix.NETLINK_ROUTE) // only rtnetlink: other families may be modules a kernel lacks
	if err != nil {
		l.t.Fatalf("lab: netlink socket in %s: %v", full, err)
	}
	return s
}

func kindWord(kind byte) string {
	if kind == kindHost {
		return "host"
	}
	return "network"
}

// close tears the lab down: kills the processes started in it and
// removes its namespaces (and with them every interface of the lab).
func (l *Lab) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	spaces, procs := l.spaces, l.procs
	l.mu.Unlock()
	defer closeLab(l.prefix)

	var errs []error
	// Whole process groups first: children that left the namespace but
	// are still in the group die too. Only groups whose leader has not
	// been reaped by a Wait: until then its pid, and so the group id,
	// cannot have been reused by an unrelated process.
	for _, p := range procs {
		if errors.Is(p.Signal(unix.Signal(0)), os.ErrProcessDone) {
			continue
		}
		if err := unix.Kill(-p.Pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("lab: kill process group %d: %w", p.Pid, err))
		}
	}
	for _, s := range spaces {
		if s.nl != nil {
			s.nl.Close()
		}
		s.ns.Close()
	}
	// Removes exactly this lab's namespaces, after killing every process
	// still in them (daemons that escaped their process group included).
	_, err := sweep(func(id nsID) bool { return id.prefix() == l.prefix })
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		l.t.Errorf("lab: cleanup: %v", err)
	}
}
