package vrrp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// NodeDeps are every OS seam a Node acts through, in one place: the real
// ones come from SystemDeps (Linux), the fakes from vrrp/vrrptest.
type NodeDeps struct {
	// OpenConn opens the VRRP socket (IP protocol 112) of an interface
	// and family; the node calls it again to reopen one.
	OpenConn func(ifname string, v6 bool) (Conn, error)
	// Source is the address an instance speaks from (PrimaryAddress).
	Source func(c *Config) (netip.Addr, error)
	// WatchInterfaces reports the link state of each named interface once,
	// then each change, until ctx ends; it returns at once with an error
	// if it cannot watch.
	WatchInterfaces func(ctx context.Context, names []string, report func(name string, up bool)) error
	// WatchAddresses reports that the addresses of a named interface
	// changed: once for each at start, then after each change, until ctx
	// ends; it returns at once with an error if it cannot watch. nil: the
	// node does not watch addresses (a VIP removed by something else is
	// not noticed).
	WatchAddresses func(ctx context.Context, names []string, changed func(name string)) error
	// Addresser holds the VIPs; Announcer announces them. The node closes
	// the Announcer at Stop when it is an io.Closer: it is its only user.
	Addresser Addresser
	Announcer Announcer
	// Runner runs track and notify scripts.
	Runner Runner
	Log    *slog.Logger
	// OnEvent, if not nil, hears every transition after its notify script
	// is queued and its sync group told; it runs on the instance's
	// goroutine and must not block.
	OnEvent func(Event)
}

// NodeConfig is the whole VRRP configuration of a host.
type NodeConfig struct {
	Instances    []Config
	TrackScripts []TrackScript
	SyncGroups   []SyncGroup
}

// Running is an instance as the node runs it.
type Running struct {
	Instance *Instance
	Config   Config
	Source   netip.Addr // the address it speaks from now
}

// ErrNodeStopped refuses an Apply after Stop (or once the node's context
// has ended).
var ErrNodeStopped = errors.New("vrrp: the node is stopping")

// Node supervises every VRRP instance of a host: one socket per
// interface and family, shared by its instances; the instances with their
// notify scripts; track scripts; sync groups; the interface watch that
// faults instances on a down link and reopens sockets on a recreated one;
// the address watch that makes a master whose VIP was removed hand over
// and moves sources to a renumbered interface's address.
// Apply changes it by difference, as a reload does. Every goroutine it
// starts runs under the context given to NewNode, and Stop waits for all.
type Node struct {
	deps     NodeDeps
	log      *slog.Logger
	parent   context.Context    // its end stops the node, in order
	ctx      context.Context    // the node's own: ended by the stop, after the instances
	cancel   context.CancelFunc // ends ctx
	scripts  context.Context    // the notify scripts': ended by the stop after StopScriptGrace
	kill     context.CancelFunc // ends scripts
	wg       sync.WaitGroup
	stopOnce sync.Once

	// mu serialises Apply, the source refresh and the stop. Never take it
	// from an instance's goroutine (OnEvent): Apply waits on those.
	mu         sync.Mutex
	applied    bool // a first Apply ran
	stopped    bool
	order      []string // running instances in configured order
	instances  map[string]*running
	syncGroups []SyncGroup
	stopGroups context.CancelFunc
	trackers   map[string]*scriptTrack
	stopWatch  context.CancelFunc
	retired    []*Notifier        // of stopped instances, scripts maybe still running, in stop order
	stopAddrs  context.CancelFunc // ends the address watch

	sockMu     sync.Mutex // also taken by the interface watch
	sockets    map[socketKey]*Socket
	sockClosed bool

	groups  sync.Map                  // instance name → *Group; read from OnEvent
	tracked atomic.Pointer[trackedBy] // read by trackers and the interface watch
}

type socketKey struct {
	iface string
	v6    bool
}

// running is one started instance.
type running struct {
	in       *Instance
	cfg      Config
	src      netip.Addr
	notifier *Notifier
	stop     context.CancelFunc
	done     chan struct{} // closed once it stopped: it resigned, its scripts may run on
}

// NewNode makes an empty node; Apply gives it instances. When ctx ends,
// the node stops as Stop does.
func NewNode(ctx context.Context, deps NodeDeps) *Node {
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	n := &Node{deps: deps, log: deps.Log, parent: ctx,
		instances: map[string]*running{}, trackers: map[string]*scriptTrack{}, sockets: map[socketKey]*Socket{}}
	// The node's goroutines run under its own context, which the stop
	// ends only once the instances have resigned: an ended ctx must not
	// take trackers, groups and sockets away from instances still
	// sending their last adverts and running their stop scripts.
	n.ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))
	n.scripts, n.kill = context.WithCancel(context.WithoutCancel(ctx))
	n.tracked.Store(&trackedBy{})
	context.AfterFunc(ctx, n.Stop)
	return n
}

// Stop stops everything in order and waits for it: the instances resign
// (priority 0) and drop their VIPs one at a time in configured order,
// none waiting for a script; the stop scripts run one at a time in that
// order meanwhile, and what still runs StopScriptGrace after the last
// resignation is killed with its session; then trackers, sync groups and
// the interface watch end, and the sockets close. It is safe to call more
// than once, and from several goroutines.
func (n *Node) Stop() {
	n.stopOnce.Do(n.shutdown)
}

func (n *Node) shutdown() {
	n.mu.Lock()
	n.stopped = true
	for _, name := range slices.Clone(n.order) {
		n.stopInstance(n.instances[name])
	}
	retired := n.retired
	n.mu.Unlock()
	n.endScripts(retired)
	n.cancel()
	// Sockets close only now: the instances' last adverts went through them.
	n.sockMu.Lock()
	n.sockClosed = true
	for _, s := range n.sockets {
		s.Close()
	}
	n.sockMu.Unlock()
	n.wg.Wait()
	if c, ok := n.deps.Announcer.(io.Closer); ok {
		c.Close()
	}
}

// Instances returns the running instances in configured order.
func (n *Node) Instances() []Running {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Running, 0, len(n.order))
	for _, name := range n.order {
		m := n.instances[name]
		out = append(out, Running{Instance: m.in, Config: m.cfg, Source: m.src})
	}
	return out
}

// Instance returns the running instance of that name.
func (n *Node) Instance(name string) (Running, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := n.instances[name]
	if m == nil {
		return Running{}, false
	}
	return Running{Instance: m.in, Config: m.cfg, Source: m.src}, true
}

// Apply makes the node run want, changing only what differs: an
// unchanged instance is not touched, a changed one is updated in place
// (a master whose priority stays the same stays master) or replaced when
// what it is changed. It returns what it changed, in words
// ("instance VI_1 added", "instance VI_1 updated", "instance VI_1
// removed", "sync groups rebuilt"), and what failed; the rest applies.
func (n *Node) Apply(want NodeConfig) ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped || n.parent.Err() != nil {
		return nil, ErrNodeStopped
	}
	var summary []string
	note := func(format string, args ...any) { summary = append(summary, fmt.Sprintf(format, args...)) }
	scripts := map[string]TrackScript{}
	for _, ts := range want.TrackScripts {
		scripts[ts.Name] = ts
	}

	// Sync groups first, so new members join them as they start.
	groupsChanged := !n.applied || !reflect.DeepEqual(want.SyncGroups, n.syncGroups)
	var stopOldGroups context.CancelFunc
	if groupsChanged {
		stopOldGroups = n.startGroups(want.SyncGroups)
		note("sync groups rebuilt")
	}

	var errs []error
	for _, name := range slices.Clone(n.order) {
		if !slices.ContainsFunc(want.Instances, func(c Config) bool { return c.Name == name }) {
			n.stopInstance(n.instances[name])
			note("instance %s removed", name)
		}
	}
	for _, ic := range want.Instances {
		m := n.instances[ic.Name]
		switch {
		case m == nil:
			if err := n.startInstance(ic, scripts); err != nil {
				errs = append(errs, err)
				continue
			}
			note("instance %s added", ic.Name)
		case reflect.DeepEqual(m.cfg, ic):
			// unchanged: nothing reaches the wire
		default:
			if err := n.updateInstance(m, ic, scripts); err != nil {
				errs = append(errs, err)
				continue
			}
			note("instance %s updated", ic.Name)
		}
		if groupsChanged {
			in := n.instances[ic.Name].in
			group := n.groupOf(ic.Name)
			if group != nil {
				group.Add(in)
			}
			in.SetGroup(group)
		}
	}
	if stopOldGroups != nil {
		stopOldGroups()
	}
	n.order = n.order[:0]
	for _, ic := range want.Instances {
		if n.instances[ic.Name] != nil {
			n.order = append(n.order, ic.Name)
		}
	}
	if err := n.applyTrackers(want.Instances, scripts); err != nil {
		errs = append(errs, err)
	}
	n.applied, n.syncGroups = true, want.SyncGroups
	return summary, errors.Join(errs...)
}

// startGroups replaces the sync groups and returns the old ones' stop.
func (n *Node) startGroups(sgs []SyncGroup) (stopOld context.CancelFunc) {
	stopOld = n.stopGroups
	var ctx context.Context
	ctx, n.stopGroups = context.WithCancel(n.ctx)
	n.groups.Clear()
	for _, sg := range sgs {
		g := NewGroup(sg.Name)
		for _, name := range sg.Instances {
			n.groups.Store(name, g)
		}
		n.wg.Go(func() { g.Run(ctx) })
	}
	return stopOld
}

func (n *Node) groupOf(name string) *Group {
	g, _ := n.groups.Load(name)
	group, _ := g.(*Group)
	return group
}

// socket returns the shared socket of an instance's interface and family,
// opening it on first use.
func (n *Node) socket(ic Config) (*Socket, error) {
	n.sockMu.Lock()
	defer n.sockMu.Unlock()
	key := socketKey{ic.Interface, ic.IPv6()}
	if s := n.sockets[key]; s != nil {
		return s, nil
	}
	if n.sockClosed {
		return nil, ErrNodeStopped
	}
	s, err := NewSocket(ic.Interface, ic.IPv6(), func() (Conn, error) { return n.deps.OpenConn(ic.Interface, ic.IPv6()) })
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", ic.Name, err)
	}
	n.sockets[key] = s
	n.wg.Go(func() {
		s.Serve(func(err error) {
			n.log.Error("VRRP socket cannot read: its instances are in FAULT until it reopens", "interface", ic.Interface, "err", err)
		})
	})
	return s, nil
}

func (n *Node) source(ic Config) (netip.Addr, error) {
	src, err := n.deps.Source(&ic)
	if err != nil {
		return src, fmt.Errorf("instance %s: %w", ic.Name, err)
	}
	return src, nil
}

func (n *Node) startInstance(ic Config, scripts map[string]TrackScript) error {
	sock, err := n.socket(ic)
	if err != nil {
		return err
	}
	src, err := n.source(ic)
	if err != nil {
		return err
	}
	m := &running{cfg: ic, src: src, done: make(chan struct{})}
	m.notifier = NewNotifier(n.scripts, ic.Name, ic.Notify, n.deps.Runner, n.log)
	for i := len(n.retired) - 1; i >= 0; i-- {
		if n.retired[i].name == ic.Name { // a replaced instance: its old scripts first
			m.notifier.After(n.retired[i].Done())
			break
		}
	}
	group := n.groupOf(ic.Name)
	m.in = NewInstance(ic, Deps{
		Transport:    sock.Transport(src, ic.UnicastPeers),
		Addresser:    n.deps.Addresser,
		Announcer:    n.deps.Announcer,
		LocalIP:      src,
		TrackScripts: scripts,
		OnEvent:      func(ev Event) { n.onEvent(m, ev) },
		Group:        group,
		Log:          n.log,
	})
	if err := sock.Register(ic.VRID, m.in, len(ic.UnicastPeers) == 0); err != nil {
		m.notifier.Close()
		return fmt.Errorf("instance %s: %w", ic.Name, err)
	}
	// Only a registered instance joins its group: the group waits on its
	// members, and this one is about to run.
	if group != nil {
		group.Add(m.in)
	}
	ctx, cancel := context.WithCancel(n.ctx)
	m.stop = cancel
	n.wg.Go(func() {
		m.in.Run(ctx)
		m.notifier.Close() // the stop script is queued: it runs on its own
		close(m.done)
	})
	n.instances[ic.Name] = m
	return nil
}

// onEvent runs on the instance's goroutine: notify scripts, the sync
// group, then the node's owner, all without n.mu.
func (n *Node) onEvent(m *running, ev Event) {
	m.notifier.Notify(ev)
	if g := n.groupOf(ev.Instance); g != nil {
		g.Observe(ev)
	}
	if n.deps.OnEvent != nil {
		n.deps.OnEvent(ev)
	}
}

// updateInstance applies a changed instance in place, or replaces it when
// what it is changed.
func (n *Node) updateInstance(m *running, ic Config, scripts map[string]TrackScript) error {
	var transport Transport
	src, err := n.source(ic)
	if err != nil {
		return err
	}
	sock, err := n.socket(ic)
	if err != nil {
		return err
	}
	if src != m.src || !slices.Equal(ic.UnicastPeers, m.cfg.UnicastPeers) {
		transport = sock.Transport(src, ic.UnicastPeers)
	}
	ch := Change{Transport: transport, TrackScripts: scripts}
	if src != m.src {
		ch.LocalIP = src
	}
	err = m.in.Update(ic, ch)
	if errors.Is(err, ErrReplace) {
		n.log.Warn("instance replaced: its interface, VRID, version or family changed", "instance", ic.Name)
		n.stopInstance(m)
		return n.startInstance(ic, scripts)
	}
	if err != nil {
		return fmt.Errorf("instance %s: %w", ic.Name, err)
	}
	// Only now: a replaced instance runs its own (old) stop script.
	m.notifier.SetConfig(ic.Notify)
	if (len(ic.UnicastPeers) == 0) != (len(m.cfg.UnicastPeers) == 0) {
		sock.Unregister(ic.VRID)
		if err := sock.Register(ic.VRID, m.in, len(ic.UnicastPeers) == 0); err != nil {
			return fmt.Errorf("instance %s: %w", ic.Name, err)
		}
	}
	m.cfg, m.src = ic, src
	return nil
}

// endScripts waits for the notifiers of the stopped instances at most
// StopScriptGrace in all, then kills the scripts still running and waits
// for the kill (the runner's, bounded).
func (n *Node) endScripts(retired []*Notifier) {
	if len(retired) > 0 {
		grace := time.NewTimer(StopScriptGrace)
		select {
		case <-retired[len(retired)-1].Done(): // each ends after the one before
		case <-grace.C:
			n.log.Warn("notify scripts still running at stop: killed", "grace", StopScriptGrace)
		}
		grace.Stop()
	}
	n.kill()
	for _, nt := range retired {
		<-nt.Done()
	}
}

// stopInstance stops one instance: it resigns (priority 0) and drops its
// VIPs. Its scripts, its stop script last, run on after those of the
// instances stopped before it; nothing here waits for them, so a hung
// script holds up neither the next instance nor a reload. n.mu is held.
func (n *Node) stopInstance(m *running) {
	n.retired = slices.DeleteFunc(n.retired, (*Notifier).Finished)
	if k := len(n.retired); k > 0 {
		m.notifier.After(n.retired[k-1].Done())
	}
	n.retired = append(n.retired, m.notifier)
	m.stop()
	<-m.done
	n.sockMu.Lock()
	s := n.sockets[socketKey{m.cfg.Interface, m.cfg.IPv6()}]
	n.sockMu.Unlock()
	if s != nil {
		s.Unregister(m.cfg.VRID)
	}
	delete(n.instances, m.cfg.Name)
	n.order = slices.DeleteFunc(n.order, func(name string) bool { return name == m.cfg.Name })
}
