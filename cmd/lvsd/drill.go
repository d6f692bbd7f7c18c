package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/arp"

	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"
)

// drill steps instance name (or the first master) down and reports the
// takeover. It fails when no peer takes over within master_down, in which
// case the instance has taken its VIPs back.
func (d *daemon) drill(name string, hold time.Duration) (*drillReport, error) {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return nil, errStopping
	}
	var in *vrrp.Instance
	var src netip.Addr
	var cfg vrrp.Config
	for _, cand := range d.node.Instances() {
		if name != "" && cand.Config.Name != name {
			continue
		}
		if st, ok := cand.Instance.Status(); ok && (name != "" || st.State == vrrp.Master) {
			in, src, cfg = cand.Instance, cand.Source, cand.Config
			break
		}
	}
	d.mu.Unlock()
	if in == nil {
		if name != "" {
			return nil, fmt.Errorf("no instance %q", name)
		}
		return nil, errors.New("no instance is master here: run the drill on the master")
	}
	r := &drillReport{Instance: cfg.Name, FirstGARPMS: -1, Connections: -1, HoldS: int64(hold.Seconds())}
	if cs, err := ipvs.Connections(""); err == nil {
		r.Connections = len(cs)
	}
	watch := watchGARPs(cfg)
	defer watch.close()
	var syncBefore uint64
	cs := d.connSync.Load()
	if cs != nil && cs.obs != nil {
		syncBefore = cs.obs.Snapshot().Totals().Conns
	}

	start := time.Now()
	if err := in.StepDown(hold); err != nil {
		return nil, err
	}
	// The peer takes over after its skew; allow a whole master_down of the
	// lowest priority before calling the drill failed.
	limit := vrrp.MasterDown(cfg.Version, 1, cfg.AdvertInterval) + time.Second
	for {
		st, ok := in.Status()
		if !ok {
			return nil, errors.New("the instance stopped during the drill")
		}
		if st.State == vrrp.Backup && st.MasterIP.IsValid() && st.MasterIP != src {
			r.TakeoverMS, r.NewMaster = time.Since(start).Milliseconds(), st.MasterIP.String()
			break
		}
		if st.State == vrrp.Master || time.Since(start) > limit {
			r.Failure = fmt.Sprintf("no peer took over within %s (peer down, or not hearing this director?); %s is master here again", limit.Round(time.Millisecond), cfg.Name)
			return r, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The new master announces right after its first advert.
	time.Sleep(500 * time.Millisecond)
	r.GARPs, r.FirstGARPMS = watch.seen(start)
	if cs != nil && cs.obs != nil {
		r.SyncPeerConn = cs.obs.Snapshot().Totals().Conns - syncBefore
	}
	return r, nil
}

// garpWatch counts gratuitous ARP for an instance's IPv4 VIPs sent by
// another host during a drill.
type garpWatch struct {
	c      *arp.Client
	own    net.HardwareAddr
	vips   map[netip.Addr]bool
	mu     sync.Mutex
	times  []time.Time
	done   chan struct{}
	closed atomic.Bool
}

func watchGARPs(cfg vrrp.Config) *garpWatch {
	w := &garpWatch{vips: map[netip.Addr]bool{}, done: make(chan struct{})}
	for _, p := range cfg.VIPs {
		if p.Addr().Is4() {
			w.vips[p.Addr()] = true
		}
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err == nil && len(w.vips) > 0 {
		w.own = ifi.HardwareAddr
		w.c, err = arp.Dial(ifi)
	}
	if w.c == nil {
		close(w.done)
		return w
	}
	go func() {
		defer close(w.done)
		for {
			p, _, err := w.c.Read()
			if err != nil {
				// The client's errors do not wrap net.ErrClosed: after
				// close, any error ends the watch.
				if w.closed.Load() || errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if p.SenderIP == p.TargetIP && w.vips[p.SenderIP] && !bytes.Equal(p.SenderHardwareAddr, w.own) {
				w.mu.Lock()
				w.times = append(w.times, time.Now())
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// seen returns how many GARPs came and when the first did, after start.
func (w *garpWatch) seen(start time.Time) (int, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.times) == 0 {
		return 0, -1
	}
	return len(w.times), w.times[0].Sub(start).Milliseconds()
}

func (w *garpWatch) close() {
	w.closed.Store(true)
	if w.c != nil {
		w.c.Close()
	}
	<-w.done
}

func cmdDrill(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	instance := fs.String("instance", "", "the instance to step down (default: the first master)")
	hold := fs.Duration("hold", 30*time.Second, "how long the peer keeps mastership before the normal preemption rules resume")
	socket := socketFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd drill [--instance NAME] [--hold D] [-c FILE | -s SOCKET]\n\nA planned failover: the master steps down, the peer takes over, and the\ntakeover is reported. Run it on the master. Exit 0 when the peer took over,\n1 when it did not (this director then takes its VIPs back).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	path, err := socket()
	if err != nil {
		fmt.Fprintln(stderr, "lvsd drill:", err)
		return exitUsage
	}
	reply, err := callTimeout(path, controlRequest{Command: "drill", Instance: *instance, Hold: hold.String()}, time.Minute)
	if err != nil {
		fmt.Fprintln(stderr, "lvsd drill:", err)
		return exitFail
	}
	r := reply.Drill
	if r.Failure != "" {
		fmt.Fprintf(stderr, "lvsd drill: %s: FAILED: %s\n", r.Instance, r.Failure)
		return exitFail
	}
	fmt.Fprintf(stdout, "drill %s: %s took over in %d ms\n", r.Instance, r.NewMaster, r.TakeoverMS)
	if r.FirstGARPMS >= 0 {
		fmt.Fprintf(stdout, "  gratuitous ARP from the new master: %d, the first after %d ms\n", r.GARPs, r.FirstGARPMS)
	} else {
		fmt.Fprintln(stdout, "  gratuitous ARP from the new master: none seen here (IPv6 VIPs are announced by NA, not counted)")
	}
	if r.Connections >= 0 {
		fmt.Fprintf(stdout, "  connections in this director's table at step-down: %d\n", r.Connections)
	}
	fmt.Fprintf(stdout, "  connections the new master's sync messages carried since (sent as connections change state): %d\n", r.SyncPeerConn)
	fmt.Fprintf(stdout, "  preemption held back for %ds; then the normal rules apply\n", r.HoldS)
	return exitOK
}
