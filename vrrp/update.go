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

// Update applies a changed configuration of the same virtual router in
// place, on the instance's goroutine. A master whose priority and VIPs
// did not change stays master and announces nothing; VIPs added while
// master are added and announced, removed ones are removed. transport,
// when not nil, replaces the sender (new source_ip or unicast_peers).
func (in *Instance) Update(cfg Config, transport Transport) error {
	var err error
	ok := in.do(func() { err = in.update(cfg, transport) })
	if !ok {
		return errors.New("vrrp: instance stopped")
	}
	return err
}

func (in *Instance) update(cfg Config, transport Transport) error {
	old := in.cfg
	if cfg.Interface != old.Interface || cfg.VRID != old.VRID || cfg.Version != old.Version || cfg.IPv6() != old.IPv6() {
		return fmt.Errorf("%w: interface, VRID, version or family changed", ErrReplace)
	}
	if transport != nil {
		in.deps.Transport = transport
	}
	oldPrio := in.priority()
	in.cfg = cfg
	// Trackers no longer tracked stop counting.
	for name := range in.scriptOK {
		if !slices.Contains(cfg.TrackScripts, name) {
			delete(in.scriptOK, name)
		}
	}
	for key, desc := range in.faults {
		tracked := true // a sync group's fault is the group's to clear
		if name, ok := strings.CutPrefix(key, "interface:"); ok {
			tracked = slices.Contains(cfg.TrackInterfaces, name)
		} else if name, ok := strings.CutPrefix(key, "script:"); ok {
			tracked = slices.Contains(cfg.TrackScripts, name)
		}
		if !tracked {
			in.setFault(key, desc, false)
		}
	}
	if in.state != Master {
		return nil
	}
	oldVIPs, newVIPs := allVIPsOf(old), in.allVIPs()
	added, removed := diffPrefixes(oldVIPs, newVIPs), diffPrefixes(newVIPs, oldVIPs)
	if len(removed) > 0 {
		if err := in.deps.Addresser.RemoveVIPs(cfg.Interface, removed); err != nil {
			in.log.Error("removing virtual IPs", "err", err)
		}
	}
	if len(added) > 0 {
		if err := in.deps.Addresser.AddVIPs(cfg.Interface, added); err != nil {
			in.log.Error("adding virtual IPs", "err", err)
		}
		in.announceOnly(added)
	}
	if old.AdvertInterval != cfg.AdvertInterval || oldPrio != in.priority() || len(added)+len(removed) > 0 {
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

// announceOnly sends one burst for the given VIPs.
func (in *Instance) announceOnly(vips []netip.Prefix) {
	ips := make([]netip.Addr, len(vips))
	for i, p := range vips {
		ips[i] = p.Addr()
	}
	for range in.cfg.GARP.Repeat {
		if err := in.deps.Announcer.Announce(in.cfg.Interface, ips); err != nil {
			in.log.Error("announcing virtual IPs", "err", err)
			return
		}
	}
}
