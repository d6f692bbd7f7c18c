package vrrp

import (
	"context"
	"net/netip"
	"slices"
)

// watchAddresses (re)starts the address watch over the interfaces the
// instances run on (n.mu is held). A watch that cannot start is logged,
// not an error of the Apply: the instances run as they did without it.
func (n *Node) watchAddresses(own map[string][]*Instance) {
	if n.stopAddrs != nil {
		n.stopAddrs()
		n.stopAddrs = nil
	}
	if n.deps.WatchAddresses == nil || len(own) == 0 {
		return
	}
	names := make([]string, 0, len(own))
	for name := range own {
		names = append(names, name)
	}
	slices.Sort(names)
	var ctx context.Context
	ctx, n.stopAddrs = context.WithCancel(n.ctx)
	n.wg.Go(func() {
		if err := n.deps.WatchAddresses(ctx, names, n.addrsChanged); err != nil {
			n.log.Error("address watch not running: a VIP removed by something else is not noticed, nor a renumbered interface", "err", err)
		}
	})
}

// addrsChanged is one report of the address watch: the instances on the
// interface look at their VIPs, and those without source_ip move to the
// interface's address if it was renumbered (keepalived follows it too).
// It runs on the watch's goroutine, and takes n.mu only when a source
// moves: most changes are the instances' own VIPs, and an Apply or a stop
// holding n.mu must not hold up the watch.
func (n *Node) addrsChanged(name string) {
	moved := false
	for _, in := range n.tracked.Load().own[name] {
		in.AddressesChanged()
		moved = moved || n.sourceMoved(in)
	}
	if moved {
		n.refreshSourcesOnce(name, false)
	}
}

// sourceMoved reports whether the instance, without source_ip, speaks
// from an address its interface no longer chooses.
func (n *Node) sourceMoved(in *Instance) bool {
	var cfg Config
	var local netip.Addr
	if !in.do(func() { cfg, local = in.cfg, in.deps.LocalIP }) || cfg.SourceIP.IsValid() {
		return false
	}
	src, err := n.deps.Source(&cfg)
	return err == nil && src != local
}
