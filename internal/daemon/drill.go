package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/vrrp"
)

// GARPWatch counts the gratuitous ARP for an instance's VIPs that another
// host sends during a drill.
type GARPWatch interface {
	// Seen returns how many came after start and when the first did, in
	// milliseconds after start (-1: none).
	Seen(start time.Time) (n int, firstMS int64)
	Close()
}

// drillPoll is how often a drill looks at its instance's state.
const drillPoll = 5 * time.Millisecond

// Drill steps instance name (or the first master) down and reports the
// takeover. It fails when no peer takes over within master_down, in which
// case the instance has taken its VIPs back.
func (d *Daemon) Drill(name string, hold time.Duration) (*control.DrillReport, error) {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return nil, ErrStopping
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
	r := &control.DrillReport{Instance: cfg.Name, FirstGARPMS: -1, Connections: -1, HoldS: int64(hold.Seconds())}
	if d.host.Connections != nil {
		if n, err := d.host.Connections(); err == nil {
			r.Connections = n
		}
	}
	var watch GARPWatch
	if d.host.WatchGARPs != nil {
		watch = d.host.WatchGARPs(cfg)
		defer watch.Close()
	}
	cs := d.connSync.Load() // the one observer before and after, whatever a reload does meanwhile
	syncBefore, observed := syncSeen(cs)

	start := time.Now()
	if err := in.StepDown(hold); err != nil {
		return nil, err
	}
	// The peer takes over after its skew; allow a whole master_down of the
	// lowest priority before calling the drill failed.
	limit := vrrp.MasterDown(cfg.Version, 1, cfg.AdvertInterval) + time.Second
	tick := time.NewTicker(drillPoll)
	defer tick.Stop()
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
		select {
		case <-d.ctx.Done():
			return nil, ErrStopping
		case <-tick.C:
		}
	}
	// The new master announces right after its first advert.
	select {
	case <-d.ctx.Done():
	case <-time.After(500 * time.Millisecond):
	}
	if watch != nil {
		r.GARPs, r.FirstGARPMS = watch.Seen(start)
	}
	if after, ok := syncSeen(cs); ok && observed {
		r.SyncPeerConn = after - syncBefore
	}
	return r, nil
}

// syncSeen is how many connections cs's observer has seen, if it
// observes.
func syncSeen(cs *connSync) (uint64, bool) {
	if cs == nil {
		return 0, false
	}
	st := cs.Status()
	if st.Observed == nil {
		return 0, false
	}
	return st.Observed.Totals().Conns, true
}
