package vrrp

import "time"

// refreshSockets reopens the VRRP sockets of an interface that came up
// with a new index (deleted and created again), before its instances
// leave FAULT: the old sockets are bound to an index that is gone.
func (n *Node) refreshSockets(name string) {
	n.sockMu.Lock()
	defer n.sockMu.Unlock()
	for key, s := range n.sockets {
		if key.iface != name {
			continue
		}
		if reopened, err := s.Refresh(); err != nil {
			n.log.Error("VRRP socket not reopened on a recreated interface", "interface", name, "err", err)
		} else if reopened {
			n.log.Info("VRRP socket reopened: the interface was created again", "interface", name)
			// Not here: n.mu may be held by an Apply that waits for the
			// interface watch to report.
			n.wg.Go(func() { n.refreshSources(name) })
		}
	}
}

// sourceWait is how long the source refresh looks for an address on a
// recreated interface, once a second.
const sourceWait = 30 * time.Second

// refreshSources moves the instances of a recreated interface that have
// no source_ip to its address now: a new link-local address (a new MAC)
// or a renumbered IPv4 one. The address may come a little after the link
// (a network manager adds it on link-up): it is looked for again every
// second for sourceWait, until the node stops.
func (n *Node) refreshSources(name string) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	end := time.Now().Add(sourceWait)
	for n.refreshSourcesOnce(name, time.Now().After(end)) {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refreshSourcesOnce moves the instances of an interface that have no
// source_ip to its address now; the address watch calls it on every
// change of the interface's addresses, so that a renumbered interface
// (ip addr add .21/24; ip addr del .11/24) is followed at once. It
// reports whether an instance found no address yet; last logs that as an
// error.
func (n *Node) refreshSourcesOnce(name string, last bool) (pending bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return false
	}
	for _, m := range n.instances {
		if m.cfg.Interface != name || m.cfg.SourceIP.IsValid() {
			continue
		}
		src, err := n.source(m.cfg)
		if err != nil {
			if last {
				n.log.Error("no source address on the interface: adverts keep the old source (set source_ip to fix it)", "instance", m.cfg.Name, "from", m.src, "err", err)
			}
			pending = true
			continue
		}
		if src == m.src {
			continue
		}
		sock, err := n.socket(m.cfg)
		if err != nil {
			n.log.Error("VRRP socket", "instance", m.cfg.Name, "err", err)
			continue
		}
		ch := Change{Transport: sock.Transport(src, m.cfg.UnicastPeers), LocalIP: src}
		if err := m.in.Update(m.cfg, ch); err != nil {
			n.log.Error("source address not changed", "instance", m.cfg.Name, "err", err)
			continue
		}
		n.log.Info("instance speaks from the interface's address now", "instance", m.cfg.Name, "from", m.src, "to", src)
		m.src = src
	}
	return pending && !last
}
