package daemon

import (
	"net/netip"
	"os"

	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/vrrp"
)

// Status is the daemon's state as `lvsd status --json` shows it.
func (d *Daemon) Status() *control.Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := &control.Status{
		RouterID: d.cfg.Global.RouterID, Version: d.opts.Version, PID: os.Getpid(),
		Config: d.cfg.File, Started: d.started,
		Reloads: d.reloadOK.Load(), ReloadFailures: d.reloadKO.Load(),
	}
	for _, run := range d.node.Instances() {
		s, ok := run.Instance.Status()
		if !ok {
			continue
		}
		is := control.Instance{
			Name: s.Name, Interface: s.Interface, VRID: s.VRID, Version: int(s.Version),
			State: s.State.String(), Priority: s.Priority, EffectivePriority: s.Effective,
			AdvertsSent: s.Sent, AdvertsReceived: s.Received, Reasserts: s.Reasserts, Transitions: s.Transitions,
			Drops: map[string]uint64{}, Faults: s.Faults, VIPs: []string{},
		}
		if s.MasterIP.IsValid() {
			is.Master, is.MasterInterval = s.MasterIP.String(), s.MasterInterval.String()
		}
		for _, v := range s.VIPs {
			is.VIPs = append(is.VIPs, v.String())
		}
		vipStatus(&is, s)
		if !s.Last.At.IsZero() {
			is.LastTransition = &control.Transition{From: s.Last.From.String(), To: s.Last.To.String(), Cause: s.Last.Cause, At: s.Last.At}
		}
		for r, n := range s.Drops {
			is.Drops[string(r)] = n
		}
		r.Instances = append(r.Instances, is)
	}
	r.Sockets = socketStatus(d.node.Sockets())
	if d.director != nil {
		r.Services = d.director.Status()
		r.IPVSDrift = d.director.Drift()
	}
	if cs := d.connSync.Load(); cs != nil {
		r.Sync = syncStatus(cs.Status())
	}
	return r
}

// socketStatus is the VRRP sockets' counters as status shows them.
func socketStatus(socks []vrrp.SocketStatus) []control.Socket {
	var out []control.Socket
	for _, s := range socks {
		cs := control.Socket{Interface: s.Interface, Family: "ipv4", UnknownVRID: s.UnknownVRID, KernelDrops: s.KernelDrops, Reopens: s.Reopens}
		if s.IPv6 {
			cs.Family = "ipv6"
		}
		if s.DropsErr != nil {
			cs.KernelDropsError = s.DropsErr.Error()
		}
		out = append(out, cs)
	}
	return out
}

// vipStatus fills what the instance's interface holds.
func vipStatus(is *control.Instance, s vrrp.Status) {
	is.VIPsConfigured, is.VIPsPresent = prefixStrings(s.VIPsConfigured), prefixStrings(s.VIPsPresent)
	is.MasterWithoutVIPs, is.BackupWithVIPs = s.MasterWithoutVIPs, s.BackupWithVIPs
	is.VIPError, is.VIPErrors, is.VIPsLost = s.VIPError, s.VIPErrors, s.VIPsLost
}

// prefixStrings is never nil: the JSON says [] for none.
func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}
