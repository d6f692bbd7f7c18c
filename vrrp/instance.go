package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// Deps are the seams an Instance acts through.
type Deps struct {
	Transport Transport
	Addresser Addresser
	Announcer Announcer
	// LocalIP is the instance's primary address: the source of its
	// adverts and the tie-breaker between equal priorities (RFC 5798 §6.4.3).
	LocalIP netip.Addr
	// TrackScripts are the scripts the instance may track, by name.
	TrackScripts map[string]TrackScript
	// OnEvent is called for every transition, in order, from the
	// instance's goroutine. It must not block for long.
	OnEvent func(Event)
	// Group is the sync group the instance belongs to, if any: it may
	// hold back a takeover while another member still hears a master.
	Group *Group
	Log   *slog.Logger
}

// Instance runs one virtual router: the state machine of RFC 5798 §6.4
// and what each state holds (VIPs, adverts, announcements). All its state
// is owned by the goroutine of Run; other goroutines talk to it through
// Deliver, the tracker setters and Status.
type Instance struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	rx       chan arrival
	ctl      chan func()
	done     chan struct{}
	overflow atomic.Uint64 // packets dropped because rx was full
	// heardUntil is when the master this backup follows is due to be
	// declared down (UnixNano; 0: following none). Read by the group.
	heardUntil atomic.Int64
	// ownFault: a fault of the instance's own (not one a sync group put
	// on it) is active. Read by the group.
	ownFault atomic.Bool

	state          State
	masterAdverInt time.Duration // Master_Adver_Interval, learnt from the master (v3)
	masterIP       netip.Addr
	masterPrio     uint8
	faults         map[string]string // cause key → description; any → Fault
	scriptOK       map[string]bool   // last result of each tracked script
	versionWarned  bool
	downCause      string    // why the master-down timer runs: the cause if it fires
	preemptSince   time.Time // when a lower priority master was first followed under preempt_delay
	holdUntil      time.Time // a drill: no preemption before then
	last           Event
	sent, received uint64
	reasserts      uint64
	transitions    uint64
	drops          map[DropReason]uint64

	// Master_Down_Timer: when it is due, a count of its re-arms (an
	// advert judged late re-arms it), and whether it already waited once
	// for adverts that came while it ran out.
	downDue   time.Time
	downGen   uint64
	downGrace bool

	// What the interface is to hold (vips.go).
	wantVIPs    bool           // every VIP (MASTER), or none
	stale       []netip.Prefix // VIPs a reload dropped whose removal failed
	vipErr      error          // the last VIP operation, while it fails
	vipWait     time.Duration  // the wait before its next retry
	vipAttempts uint64         // failed attempts in a row
	vipErrors   uint64         // failed VIP operations since the start
	vipsLost    uint64         // hand-overs because something else removed a VIP
	foreign     []netip.Prefix // VIPs seen on the interface while not master

	adver, down, preempt, garp, refresh, vipRetry *time.Timer
}

// NewInstance prepares an instance; Run starts it.
func NewInstance(cfg Config, deps Deps) *Instance {
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	if deps.OnEvent == nil {
		deps.OnEvent = func(Event) {}
	}
	return &Instance{
		cfg:      cfg,
		deps:     deps,
		log:      deps.Log.With("instance", cfg.Name, "vrid", cfg.VRID),
		rx:       make(chan arrival, 64),
		ctl:      make(chan func()),
		done:     make(chan struct{}),
		faults:   map[string]string{},
		scriptOK: map[string]bool{},
		drops:    map[DropReason]uint64{},
	}
}

// Deliver hands the instance a received packet. It never blocks: a
// packet that finds the queue full is counted and dropped.
func (in *Instance) Deliver(p Packet) {
	select {
	case in.rx <- arrival{p, time.Now()}:
	default:
		in.overflow.Add(1)
	}
}

// Run runs the instance until ctx ends, then shuts it down as RFC 5798
// §6.4.3 says: a master sends priority 0 so that a backup takes over
// after Skew_Time, and gives up its VIPs.
func (in *Instance) Run(ctx context.Context) {
	defer close(in.done)
	in.adver, in.down, in.preempt = stoppedTimer(), stoppedTimer(), stoppedTimer()
	in.garp, in.refresh, in.vipRetry = stoppedTimer(), stoppedTimer(), stoppedTimer()
	in.startup("startup")
	for {
		select {
		case <-ctx.Done():
			in.shutdown()
			return
		case a := <-in.rx:
			in.receive(a.Packet)
		case f := <-in.ctl:
			f()
		case <-in.adver.C:
			in.sendAdvert(in.priority())
			in.adver.Reset(in.cfg.AdvertInterval)
		case <-in.down.C:
			in.masterDownExpired()
		case <-in.preempt.C:
			next := in.drainRx(time.Now())
			if in.state == Backup && in.masterPrio < in.priority() {
				in.becomeMaster(fmt.Sprintf("preempting master %s (priority %d) after preempt_delay %s", in.masterIP, in.masterPrio, in.cfg.PreemptDelay))
			}
			in.receiveLater(next)
		case <-in.garp.C:
			in.announce()
		case <-in.refresh.C:
			in.announce()
			in.refresh.Reset(in.cfg.GARP.Refresh)
		case <-in.vipRetry.C:
			in.retryVIPs()
		}
	}
}

// lateTolerance is how late Master_Down_Timer may fire before the
// instance suspects it did not run meanwhile (SIGSTOP, a stalled host):
// timers fire within a millisecond or two of their due time otherwise.
// lateGrace is how long it then waits for the adverts the kernel queued
// meanwhile, which the socket has not handed over yet.
const (
	lateTolerance = 50 * time.Millisecond
	lateGrace     = 100 * time.Millisecond
)

// masterDownExpired is the Backup state's Master_Down_Timer event (RFC
// 5798 §6.4.2). Adverts received before it are judged first: a backup
// stopped (SIGSTOP) past master_down and continued finds the expired
// timer and the adverts queued meanwhile ready at once, and must follow
// the master that is still there rather than take over from it.
func (in *Instance) masterDownExpired() {
	gen := in.downGen
	next := in.drainRx(in.downDue)
	defer in.receiveLater(next)
	if in.downGen != gen || in.state != Backup {
		return // an advert re-armed the timer
	}
	if late := time.Since(in.downDue); (late > lateTolerance || in.packetsPending()) && !in.downGrace {
		// The adverts the kernel queued while the process was stopped
		// may not have reached the queue yet: the timer fired late, or
		// the socket still holds packets (a stop that ended just after
		// the due time leaves the timer on time and the adverts unread).
		grace := min(lateGrace, in.masterAdverInt)
		in.log.Info("master_down timer fired with adverts possibly unread (the process was stopped or starved): waiting for them before taking over",
			"late", late, "grace", grace)
		in.down.Reset(grace)
		in.downDue, in.downGrace = time.Now().Add(grace), true
		return
	}
	in.heardUntil.Store(0)
	if g := in.deps.Group; g != nil {
		if other := g.hearsMaster(in); other != "" {
			in.log.Info("takeover held back: a sync group member still hears its master", "member", other)
			in.armDown()
			in.heardUntil.Store(0)
			return
		}
	}
	in.becomeMaster(in.downCause)
}

// packetsPending reports whether the instance's socket holds packets not
// read yet, when its transport can tell.
func (in *Instance) packetsPending() bool {
	p, ok := in.deps.Transport.(interface{ Pending() bool })
	return ok && p.Pending()
}

// arrival is a packet as Deliver queued it.
type arrival struct {
	Packet
	at time.Time
}

// drainRx judges the adverts queued before a timer's due time, at most a
// queue's worth (a flood must not hold the instance here). The first one
// queued at or after it is returned, to be judged after the timer's
// event, as it came after it: the queue has no way to put it back.
func (in *Instance) drainRx(due time.Time) *Packet {
	for range cap(in.rx) {
		select {
		case a := <-in.rx:
			if !a.at.Before(due) {
				return &a.Packet
			}
			in.receive(a.Packet)
		default:
			return nil
		}
	}
	return nil
}

func (in *Instance) receiveLater(p *Packet) {
	if p != nil {
		in.receive(*p)
	}
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// do runs f on the instance's goroutine; false if the instance has ended.
func (in *Instance) do(f func()) bool {
	ran := make(chan struct{})
	select {
	case in.ctl <- func() { f(); close(ran) }:
		<-ran
		return true
	case <-in.done:
		return false
	}
}

// startup is the Initialize state's Startup event (RFC 5798 §6.4.1).
func (in *Instance) startup(cause string) {
	in.masterAdverInt = in.cfg.AdvertInterval
	if in.priority() == OwnerPriority {
		in.becomeMaster(cause + ": address owner (priority 255)")
		return
	}
	// A daemon killed while master left its VIPs behind; a backup must
	// not answer for them (RFC 5798 §6.4.2: a backup MUST NOT respond to
	// ARP for the VIPs).
	in.removeVIPs()
	in.armDown()
	in.transition(Backup, cause)
}

// armDown (re)starts Master_Down_Timer at Master_Down_Interval.
func (in *Instance) armDown() {
	d := in.masterDown()
	in.setDown(d, fmt.Sprintf("no advert from a master for %s (master_down)", d))
}

// setDown (re)starts Master_Down_Timer at d; cause is the takeover's if
// it fires.
func (in *Instance) setDown(d time.Duration, cause string) {
	in.down.Reset(d)
	in.downDue, in.downGrace = time.Now().Add(d), false
	in.downGen++
	in.downCause = cause
}

func (in *Instance) shutdown() {
	in.stopTimers()
	if in.state == Master {
		in.sendAdvert(0)
	}
	// Not only a master: a removal that was still being retried ends here too.
	if in.state == Master || in.vipErr != nil {
		in.stopVIPs()
	}
	in.transition(Initialize, "shutdown")
}

func (in *Instance) stopTimers() {
	for _, t := range []*time.Timer{in.adver, in.down, in.preempt, in.garp, in.refresh} {
		t.Stop()
	}
	in.preemptSince = time.Time{} // a stopped preempt_delay starts over
}

func (in *Instance) masterDown() time.Duration {
	return MasterDown(in.cfg.Version, in.priority(), in.masterAdverInt)
}

func (in *Instance) preempts() bool {
	return in.cfg.Preempt || in.cfg.Priority == OwnerPriority
}

// priority is the effective priority: the configured one adjusted by the
// weights of tracked scripts (positive weight added while the script
// succeeds, negative weight added while it fails), kept within 1..254.
// The owner's 255 is never adjusted.
func (in *Instance) priority() uint8 {
	if in.cfg.Priority == OwnerPriority {
		return OwnerPriority
	}
	p := int(in.cfg.Priority)
	for _, name := range in.cfg.TrackScripts {
		ok, known := in.scriptOK[name]
		w := in.deps.TrackScripts[name].Weight
		if known && (w > 0 && ok || w < 0 && !ok) {
			p += w
		}
	}
	return uint8(min(max(p, 1), OwnerPriority-1))
}

func (in *Instance) receive(p Packet) {
	a, reason := in.accept(p)
	if reason != "" {
		in.drops[reason]++
		in.log.Debug("advert dropped", "from", p.Src, "reason", reason)
		return
	}
	in.received++
	switch in.state {
	case Backup:
		in.backupReceive(a, p.Src)
	case Master:
		in.masterReceive(a, p.Src)
	default:
		in.masterIP, in.masterPrio = p.Src, a.Priority
	}
}

// accept validates a packet for this instance (RFC 5798 §7.1, RFC 3768
// §7.1), returning the advert or why it was dropped.
func (in *Instance) accept(p Packet) (Advert, DropReason) {
	var a Advert
	switch {
	case p.Src == in.deps.LocalIP:
		return a, DropOwnPacket
	case p.Src.Is6() != in.cfg.IPv6():
		return a, DropFamily
	case p.TTL != TTL:
		return a, DropTTL
	}
	a, err := ParseAdvert(p.Data, p.Src, p.Dst)
	if err != nil {
		var de *DropError
		if errors.As(err, &de) {
			return a, de.Reason
		}
		return a, DropShort
	}
	switch {
	case a.VRID != in.cfg.VRID:
		return a, DropVRID
	case a.Version != in.cfg.Version:
		if !in.versionWarned {
			in.versionWarned = true
			in.log.Warn(fmt.Sprintf("advert from %s for VRID %d speaks VRRP %s, this instance %s: set version = %d on one side to interoperate",
				p.Src, a.VRID, a.Version, in.cfg.Version, a.Version), "from", p.Src)
		}
		return a, DropVersion
	case len(in.cfg.UnicastPeers) > 0 && !slices.Contains(in.cfg.UnicastPeers, p.Src):
		return a, DropUnknownIP
	}
	if a.Version == V2 {
		// Authentication data is compared for PASS only: without
		// authentication it is to be ignored (RFC 3768 §5.3.10).
		if a.AuthType != in.authType() || a.AuthType == AuthPass && a.AuthData != in.authData() {
			return a, DropAuth
		}
		if a.Interval != in.cfg.AdvertInterval {
			return a, DropInterval
		}
	}
	return a, ""
}

// backupReceive is the Backup state's ADVERTISEMENT event (RFC 5798 §6.4.2).
func (in *Instance) backupReceive(a Advert, src netip.Addr) {
	if a.Priority == 0 {
		// The master is leaving: take over after Skew_Time only.
		skew := Skew(in.cfg.Version, in.priority(), in.masterAdverInt)
		in.setDown(skew, fmt.Sprintf("master %s resigned (priority 0); took over after skew %s", src, skew))
		return
	}
	in.masterIP, in.masterPrio = src, a.Priority
	local := in.priority()
	if in.preempts() && a.Priority < local && !time.Now().Before(in.holdUntil) {
		if in.cfg.PreemptDelay == 0 {
			return // discard: master_down expires and we preempt
		}
		// Wait out preempt_delay before preempting, following this master
		// meanwhile.
		if in.preemptSince.IsZero() {
			in.preempt.Reset(in.cfg.PreemptDelay)
			in.preemptSince = time.Now()
		}
	} else {
		in.preempt.Stop()
		in.preemptSince = time.Time{}
	}
	if in.cfg.Version == V3 {
		in.masterAdverInt = a.Interval
	}
	in.armDown()
	in.heardUntil.Store(time.Now().Add(in.masterDown()).UnixNano())
}

// followsMaster reports whether the instance, as a backup, hears a live
// master now.
func (in *Instance) followsMaster() bool {
	return time.Now().UnixNano() < in.heardUntil.Load()
}

// masterReceive is the Master state's ADVERTISEMENT event (RFC 5798 §6.4.3).
func (in *Instance) masterReceive(a Advert, src netip.Addr) {
	local := in.priority()
	switch {
	case a.Priority == 0:
		// Another master resigned (RFC 5798 §6.4.3: advertise at once).
		// The link may have learnt its MAC for the VIPs: announce ours.
		in.reasserts++
		in.sendAdvert(local)
		in.adver.Reset(in.cfg.AdvertInterval)
		in.announce()
	case a.Priority > local || a.Priority == local && src.Compare(in.deps.LocalIP) > 0:
		in.masterIP, in.masterPrio = src, a.Priority
		if in.cfg.Version == V3 {
			in.masterAdverInt = a.Interval
		}
		// Resign as we go: if the other master heard nothing from us
		// (its advert won the race after a split brain), this tells it
		// to re-announce the VIPs that clients may know by our MAC.
		in.leaveMaster(true)
		in.armDown()
		in.transition(Backup, fmt.Sprintf("higher priority advert from %s (priority %d, ours %d)", src, a.Priority, local))
	default:
		// Two masters: the other must hear that we are better now, and
		// the link must learn our MAC again (split-brain heal).
		in.reasserts++
		in.log.Warn("another master with lower priority; re-asserting", "master", src, "priority", a.Priority, "ours", local)
		in.sendAdvert(local)
		in.adver.Reset(in.cfg.AdvertInterval)
		in.announce()
	}
}

func (in *Instance) becomeMaster(cause string) {
	in.heardUntil.Store(0)
	in.down.Stop()
	in.preempt.Stop()
	in.preemptSince = time.Time{}
	in.addVIPs()
	in.sendAdvert(in.priority())
	in.announce()
	if in.cfg.GARP.Delay > 0 {
		in.garp.Reset(in.cfg.GARP.Delay)
	}
	if in.cfg.GARP.Refresh > 0 {
		in.refresh.Reset(in.cfg.GARP.Refresh)
	}
	in.adver.Reset(in.cfg.AdvertInterval)
	in.masterIP, in.masterPrio = in.deps.LocalIP, in.priority()
	in.masterAdverInt = in.cfg.AdvertInterval
	in.transition(Master, cause)
}

// leaveMaster stops what a master does; resign sends priority 0 first
// so that a backup takes over after Skew_Time.
func (in *Instance) leaveMaster(resign bool) {
	in.adver.Stop()
	in.garp.Stop()
	in.refresh.Stop()
	if resign {
		in.sendAdvert(0)
	}
	in.removeVIPs()
}

func (in *Instance) transition(to State, cause string) {
	ev := Event{Instance: in.cfg.Name, VRID: in.cfg.VRID, From: in.state, To: to, Cause: cause, At: time.Now()}
	in.state = to
	in.last = ev
	in.transitions++
	in.log.Info("transition", "from", ev.From, "to", ev.To, "cause", cause, "priority", in.priority())
	in.deps.OnEvent(ev)
}

func (in *Instance) sendAdvert(priority uint8) {
	a := &Advert{
		Version:  in.cfg.Version,
		VRID:     in.cfg.VRID,
		Priority: priority,
		Interval: in.cfg.AdvertInterval,
		AuthType: in.authType(),
		AuthData: in.authData(),
		Addrs:    make([]netip.Addr, len(in.cfg.VIPs)),
	}
	for i, p := range in.cfg.VIPs {
		a.Addrs[i] = p.Addr()
	}
	if err := in.deps.Transport.Send(a); err != nil {
		in.drops["send_error"]++
		in.log.Error("sending advert", "err", err)
		return
	}
	in.sent++
}

func (in *Instance) authType() AuthType {
	if in.cfg.Version == V2 && in.cfg.AuthPass != "" {
		return AuthPass
	}
	return AuthNone
}

func (in *Instance) authData() (d [authDataLen]byte) {
	if in.authType() == AuthPass {
		copy(d[:], in.cfg.AuthPass)
	}
	return d
}

// announce sends one burst of GARP (or NA) for every VIP.
func (in *Instance) announce() { in.announceOnly(in.allVIPs()) }

// SetInterface records the link state of the instance's interface or of a
// tracked one; a down interface puts the instance in Fault.
func (in *Instance) SetInterface(name string, up bool) {
	in.do(func() { in.setFault("interface:"+name, "tracked interface "+name+" down", !up) })
}

// SocketFault puts the instance in Fault while its socket cannot read:
// deaf, it would take over from a master it cannot hear.
func (in *Instance) SocketFault(err error) {
	desc := "VRRP socket failing"
	if err != nil {
		desc += ": " + err.Error()
	}
	in.do(func() { in.setFault("socket", desc, err != nil) })
}

// SetScript records a tracked script's result: a script of weight 0 puts
// the instance in Fault while it fails; others adjust the priority.
func (in *Instance) SetScript(name string, ok bool) {
	in.do(func() {
		in.scriptOK[name] = ok
		if in.deps.TrackScripts[name].Weight == 0 {
			in.setFault("script:"+name, "track_script "+name+" failing", !ok)
		}
	})
}

func (in *Instance) setFault(key, desc string, on bool) {
	_, had := in.faults[key]
	if on == had {
		return
	}
	if on {
		in.faults[key] = desc
	} else {
		delete(in.faults, key)
	}
	own := false
	for k := range in.faults {
		own = own || !strings.HasPrefix(k, "group:")
	}
	if in.ownFault.Swap(own) && !own && len(in.faults) > 0 && in.deps.Group != nil {
		// Only the group's fault holds the instance now: no transition
		// will tell the group, so say it.
		in.deps.Group.Observe(Event{Instance: in.cfg.Name, VRID: in.cfg.VRID, From: Fault, To: Fault, Cause: ownFaultCleared, At: time.Now()})
	}
	switch {
	case len(in.faults) > 0 && in.state != Fault:
		if in.state == Master {
			in.leaveMaster(true)
		}
		in.stopTimers()
		in.transition(Fault, desc)
	case len(in.faults) == 0 && in.state == Fault:
		cause := "fault cleared: " + desc
		if strings.HasPrefix(key, "group:") {
			cause = groupCause + "fault cleared: " + desc // the group's doing, not a member's
		}
		in.startup(cause)
	}
}

// Status is a snapshot of an instance for `lvsd status`.
type Status struct {
	Name           string
	VRID           uint8
	Interface      string
	Version        Version
	State          State
	Priority       uint8 // configured
	Effective      uint8 // after track_script weights
	MasterIP       netip.Addr
	MasterInterval time.Duration
	VIPs           []netip.Prefix // held now, as the state says
	Last           Event
	Sent, Received uint64
	Reasserts      uint64
	Transitions    uint64
	Drops          map[DropReason]uint64
	Faults         []string

	// What the interface holds, read at the snapshot, beside what the
	// state says.
	VIPsConfigured    []netip.Prefix // virtual_ips and virtual_ips_excluded
	VIPsPresent       []netip.Prefix // those on the interface now
	MasterWithoutVIPs bool           // MASTER, and a VIP is not on the interface
	BackupWithVIPs    bool           // not MASTER, and a VIP is on the interface
	VIPError          string         // why the interface is not as the state says, while it is not
	VIPErrors         uint64         // VIP operations that failed since the start
	VIPsLost          uint64         // hand-overs because something else removed a VIP
}

// Status returns a snapshot; ok is false once the instance has stopped.
func (in *Instance) Status() (s Status, ok bool) {
	ok = in.do(func() {
		s = Status{
			Name: in.cfg.Name, VRID: in.cfg.VRID, Interface: in.cfg.Interface, Version: in.cfg.Version,
			State: in.state, Priority: in.cfg.Priority, Effective: in.priority(),
			MasterIP: in.masterIP, MasterInterval: in.masterAdverInt, Last: in.last,
			Sent: in.sent, Received: in.received, Reasserts: in.reasserts, Transitions: in.transitions,
			Drops: maps.Clone(in.drops),
		}
		if n := in.overflow.Load(); n > 0 {
			s.Drops["overflow"] = n
		}
		if in.state == Master {
			s.VIPs = in.allVIPs()
		}
		in.vipStatus(&s)
		for _, d := range in.faults {
			s.Faults = append(s.Faults, d)
		}
		sort.Strings(s.Faults)
	})
	return s, ok
}
