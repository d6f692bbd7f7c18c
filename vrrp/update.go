package vrrp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ErrReplace means a configuration change alters what the instance is
// (interface, VRID, version, address family): it must be replaced, not
// updated.
var ErrReplace = errors.New("vrrp: the instance must be replaced")

// Change is what a reload changes besides the configuration.
type Change struct {
	// Transport, when not nil, replaces the sender, and LocalIP the
	// address the instance speaks from (new source_ip or unicast_peers).
	Transport Transport
	LocalIP   netip.Addr
	// TrackScripts, when not nil, replaces the track scripts' definitions
	// (their weights).
	TrackScripts map[string]TrackScript
}

// Update applies a changed configuration of the same virtual router in
// place, on the instance's goroutine. A master whose priority and VIPs
// did not change stays master and announces nothing; VIPs added while
// master are added and announced, removed ones are removed.
func (in *Instance) Update(cfg Config, ch Change) error {
	var err error
	ok := in.do(func() { err = in.update(cfg, ch) })
	if !ok {
		return errors.New("vrrp: instance stopped")
	}
	return err
}

func (in *Instance) update(cfg Config, ch Change) error {
	old := in.cfg
	if cfg.Interface != old.Interface || cfg.VRID != old.VRID || cfg.Version != old.Version || cfg.IPv6() != old.IPv6() {
		return fmt.Errorf("%w: interface, VRID, version or family changed", ErrReplace)
	}
	if ch.Transport != nil {
		in.deps.Transport = ch.Transport
	}
	if ch.LocalIP.IsValid() {
		in.deps.LocalIP = ch.LocalIP
	}
	oldPrio := in.priority()
	in.cfg = cfg
	if ch.TrackScripts != nil {
		in.deps.TrackScripts = ch.TrackScripts
		// A weight that became 0 now faults on a failing script; one that
		// is no longer 0 adjusts the priority instead.
		for name, ok := range in.scriptOK {
			in.setFault("script:"+name, "track_script "+name+" failing", !ok && in.deps.TrackScripts[name].Weight == 0)
		}
	}
	if cfg.Version == V2 {
		// v2 has no Max Adver Int in its adverts: both ends use their own
		// configured interval, so a backup must adopt a reloaded one.
		in.masterAdverInt = cfg.AdvertInterval
		if in.state == Backup {
			in.armDown()
		}
	}
	// Trackers no longer tracked stop counting.
	for name := range in.scriptOK {
		if !slices.Contains(cfg.TrackScripts, name) {
			delete(in.scriptOK, name)
		}
	}
	for key, desc := range in.faults {
		tracked := true // a sync group's fault is the group's to clear
		if name, ok := strings.CutPrefix(key, "interface:"); ok {
			tracked = name == cfg.Interface || slices.Contains(cfg.TrackInterfaces, name)
		} else if name, ok := strings.CutPrefix(key, "script:"); ok {
			tracked = slices.Contains(cfg.TrackScripts, name)
		}
		if !tracked {
			in.setFault(key, desc, false)
		}
	}
	oldVIPs, newVIPs := allVIPsOf(old), in.allVIPs()
	added, removed := diffPrefixes(oldVIPs, newVIPs), diffPrefixes(newVIPs, oldVIPs)
	in.foreign = slices.DeleteFunc(in.foreign, func(p netip.Prefix) bool { return !slices.Contains(newVIPs, p) })
	if in.state != Master {
		if in.vipErr != nil {
			// A removal is being retried: the dropped VIPs go with it.
			in.stale = append(in.stale, removed...)
		}
		return nil
	}
	if len(added)+len(removed) > 0 {
		in.stale = append(in.stale, removed...)
		if in.holdVIPs() && len(added) > 0 {
			in.announceOnly(added)
		}
	}
	if old.AdvertInterval != cfg.AdvertInterval || oldPrio != in.priority() || len(added)+len(removed) > 0 {
		// (priority may also have moved with the track scripts' weights)
		// Tell the backups at once what changed in the adverts.
		in.sendAdvert(in.priority())
		in.adver.Reset(cfg.AdvertInterval)
		in.masterAdverInt = cfg.AdvertInterval
	}
	if old.GARP.Refresh != cfg.GARP.Refresh {
		in.refresh.Stop()
		if cfg.GARP.Refresh > 0 {
			in.refresh.Reset(cfg.GARP.Refresh)
		}
	}
	in.log.Info("configuration updated in place", "vips_added", len(added), "vips_removed", len(removed), "priority", in.priority())
	return nil
}

func allVIPsOf(c Config) []netip.Prefix { return append(slices.Clone(c.VIPs), c.VIPsExcluded...) }

// diffPrefixes returns the prefixes of b not in a.
func diffPrefixes(a, b []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range b {
		if !slices.Contains(a, p) {
			out = append(out, p)
		}
	}
	return out
}

// announceOnly sends one burst for the given VIPs. A failed send does not
// abandon the rest of the burst: the next repeat may go through (the
// announcer reopens its socket after a link flap), and it is logged once.
func (in *Instance) announceOnly(vips []netip.Prefix) {
	ips := make([]netip.Addr, len(vips))
	for i, p := range vips {
		ips[i] = p.Addr()
	}
	failed := 0
	var last error
	for range in.cfg.GARP.Repeat {
		if err := in.deps.Announcer.Announce(in.cfg.Interface, ips); err != nil {
			failed, last = failed+1, err
		}
	}
	if failed > 0 {
		in.log.Error("announcing virtual IPs", "failed", failed, "of", in.cfg.GARP.Repeat, "err", last)
	}
}
