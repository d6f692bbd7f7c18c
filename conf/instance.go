package conf

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsd/lvsd/vrrp"
)

var instanceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "interface", Required: true},
		{Name: "virtual_router_id", Required: true},
		{Name: "priority"}, {Name: "advert_interval"}, {Name: "version"},
		{Name: "preempt"}, {Name: "preempt_delay"},
		{Name: "virtual_ips", Required: true}, {Name: "virtual_ips_excluded"},
		{Name: "source_ip"}, {Name: "unicast_peers"}, {Name: "auth_pass"},
		{Name: "track_interfaces"}, {Name: "track_scripts"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "garp"}, {Type: "notify"}},
}

var garpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "delay"}, {Name: "repeat"}, {Name: "refresh"}},
}

var notifySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "master"}, {Name: "backup"}, {Name: "fault"}, {Name: "stop"}},
}

// instanceSrc is a decoded instance with the attributes it came from, for
// the checks that span blocks.
type instanceSrc struct {
	cfg   vrrp.Config
	a     attrs
	block *hcl.Block
}

const day = 24 * time.Hour

func (d *decoder) instance(b *hcl.Block) *instanceSrc {
	c := vrrp.Config{
		Name:           b.Labels[0],
		Priority:       100,
		AdvertInterval: time.Second,
		Version:        vrrp.V3,
		Preempt:        true,
		GARP:           vrrp.GARP{Delay: 5 * time.Second, Repeat: 5},
	}
	a, blocks := d.content(b.Body, instanceSchema)
	a.iface("interface", &c.Interface)
	var n int
	if a.integer("virtual_router_id", 1, 255, &n) {
		c.VRID = uint8(n)
	}
	if a.integer("priority", 1, 255, &n) {
		c.Priority = uint8(n)
	}
	if a.integer("version", 2, 3, &n) {
		c.Version = vrrp.Version(n)
	}
	if a.duration("advert_interval", 0, math.MaxInt64, &c.AdvertInterval) {
		d.advertInterval(a, c.Version, c.AdvertInterval)
	}
	a.boolean("preempt", &c.Preempt)
	a.duration("preempt_delay", 0, time.Hour, &c.PreemptDelay)

	if a.prefixes("virtual_ips", &c.VIPs) && len(c.VIPs) == 0 {
		d.errorf(a.rng("virtual_ips"), "Empty virtual_ips", "an instance needs at least one virtual IP to hold")
	}
	a.prefixes("virtual_ips_excluded", &c.VIPsExcluded)
	hasSource := a.addr("source_ip", &c.SourceIP)
	hasPeers := a.addrs("unicast_peers", &c.UnicastPeers)
	if hasPeers {
		d.uniqueAddrs(a, "unicast_peers", c.UnicastPeers)
	}
	if len(c.VIPs) > 0 {
		v6 := c.VIPs[0].Addr().Is6()
		d.sameFamily(a, "virtual_ips", v6, "the first virtual IP; one instance is IPv4 or IPv6, use a second instance for the other family")
		if hasSource && c.SourceIP.Is6() != v6 {
			d.errorf(a.rng("source_ip"), "source_ip family differs from the virtual IPs", "adverts for %s virtual IPs go out from an address of the same family", family(v6))
		}
		if hasPeers {
			d.sameFamily(a, "unicast_peers", v6, "the virtual IPs")
		}
		if v6 && c.Version == vrrp.V2 {
			d.errorf(a.rng("version"), "VRRP v2 is IPv4 only", "RFC 3768 has no IPv6; set version = 3 for IPv6 virtual IPs")
		}
		d.advertLimit(a, &c)
	}
	if a.str("auth_pass", &c.AuthPass) {
		switch {
		case c.Version != vrrp.V2:
			d.errorf(a.rng("auth_pass"), "auth_pass needs version = 2", "VRRP v3 has no authentication (RFC 5798 §9); remove auth_pass or set version = 2")
		case len(c.AuthPass) > vrrp.MaxAuthPass:
			d.errorf(a.rng("auth_pass"), "auth_pass too long", "VRRP v2 carries at most %d bytes of password; this one has %d", vrrp.MaxAuthPass, len(c.AuthPass))
		}
	}
	if a.strings("track_interfaces", &c.TrackInterfaces) {
		exprs, _ := a.list("track_interfaces")
		for i, name := range c.TrackInterfaces {
			d.interfaces = append(d.interfaces, located{exprs[i].Range(), name})
		}
	}
	a.strings("track_scripts", &c.TrackScripts)

	for _, blk := range onlyOne(d, blocks, "garp") {
		g, _ := d.content(blk.Body, garpSchema)
		g.duration("delay", 0, time.Hour, &c.GARP.Delay)
		g.integer("repeat", 1, 100, &c.GARP.Repeat)
		g.duration("refresh", 0, day, &c.GARP.Refresh)
	}
	for _, blk := range onlyOne(d, blocks, "notify") {
		nb, _ := d.content(blk.Body, notifySchema)
		nb.argv("master", &c.Notify.Master)
		nb.argv("backup", &c.Notify.Backup)
		nb.argv("fault", &c.Notify.Fault)
		nb.argv("stop", &c.Notify.Stop)
	}
	return &instanceSrc{cfg: c, a: a, block: b}
}

// typicalMTU is the MTU advertLimit assumes: check does not know the
// interface's; lvsd run fits each advert to the real one.
const typicalMTU = 1500

// advertLimit warns when an advert cannot list every VIP: its address
// count is 8 bits (RFC 5798 §5.2.5) and it must fit in one packet. The
// instance still holds them all; as keepalived does, the advert lists
// the first ones (vrrp.AdvertAddrLimit). A warning, not an error: the
// list is informative and the election does not depend on it.
func (d *decoder) advertLimit(a attrs, c *vrrp.Config) {
	n, v6 := len(c.VIPs), c.IPv6()
	limit := vrrp.AdvertAddrLimit(c.Version, v6, vrrp.MaxIPPacket)
	why := "an advert counts its addresses in 8 bits (RFC 5798 §5.2.5)"
	if l := vrrp.AdvertAddrLimit(c.Version, v6, typicalMTU); l < limit {
		limit, why = l, fmt.Sprintf("that is what fits in one advert on an interface with MTU %d", typicalMTU)
	}
	if n <= limit {
		return
	}
	rng := a.rng("virtual_ips")
	if exprs, _ := a.list("virtual_ips"); len(exprs) > limit {
		rng = exprs[limit].Range() // the first one left out
	}
	d.warnf(rng, fmt.Sprintf("Only the first %d of %d virtual IPs are advertised", limit, n),
		"%s; the instance holds all %d while master, but its adverts list only the first %d, as keepalived's do (move the others to virtual_ips_excluded to say so)",
		why, n, limit)
}

// advertInterval checks the interval against what the version can carry.
func (d *decoder) advertInterval(a attrs, v vrrp.Version, iv time.Duration) {
	r := a.rng("advert_interval")
	switch v {
	case vrrp.V2:
		if iv%time.Second != 0 || iv < vrrp.MinAdvertIntervalV2 || iv > vrrp.MaxAdvertIntervalV2 {
			d.errorf(r, "advert_interval invalid for VRRP v2", "v2 advertises in whole seconds from 1s to 255s (RFC 3768 §5.3.7); %s is not; use version = 3 for sub-second intervals", iv)
		}
	default:
		if iv%vrrp.AdvertUnitV3 != 0 || iv < vrrp.MinAdvertIntervalV3 || iv > vrrp.MaxAdvertIntervalV3 {
			d.errorf(r, "advert_interval out of range", "v3 advertises in centiseconds from 10ms to 40.95s (RFC 5798 §5.2.7); %s is not", iv)
		}
	}
}

// onlyOne returns the blocks of type typ, reporting all but the first.
func onlyOne(d *decoder, blocks hcl.Blocks, typ string) hcl.Blocks {
	var out hcl.Blocks
	for _, b := range blocks {
		if b.Type != typ {
			continue
		}
		if len(out) == 1 {
			d.errorf(b.DefRange, "Duplicate "+typ+" block", "only one %s block is allowed here, first at %s", typ, at(out[0].DefRange))
			continue
		}
		out = append(out, b)
	}
	return out
}

func family(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}

// sameFamily reports each element of a list of addresses whose family is
// not v6's.
func (d *decoder) sameFamily(a attrs, name string, v6 bool, ref string) {
	exprs, _ := a.list(name)
	for _, e := range exprs {
		v, diags := e.Value(nil)
		if diags.HasErrors() || !v.Type().Equals(cty.String) {
			continue
		}
		p, err := ParseVIP(v.AsString())
		if err == nil && p.Addr().Is6() != v6 {
			d.errorf(e.Range(), "Mixed address families in "+name,
				"%s is %s but %s is %s", p.Addr(), family(!v6), ref, family(v6))
		}
	}
}

// uniqueAddrs reports repeated addresses in a list.
func (d *decoder) uniqueAddrs(a attrs, name string, list []netip.Addr) {
	exprs, _ := a.list(name)
	seen := map[netip.Addr]bool{}
	for i, ip := range list {
		if seen[ip] {
			d.errorf(exprs[i].Range(), "Duplicate address in "+name, "%s is listed twice", ip)
		}
		seen[ip] = true
	}
}

// uniqueVRIDs reports two instances that would answer for the same virtual
// router: same VRID on the same interface and address family.
func (d *decoder) uniqueVRIDs(ins []*instanceSrc) {
	type key struct {
		iface string
		v6    bool
		vrid  uint8
	}
	seen := map[key]*instanceSrc{}
	for _, in := range ins {
		if in.cfg.VRID == 0 || in.cfg.Interface == "" {
			continue
		}
		k := key{in.cfg.Interface, in.cfg.IPv6(), in.cfg.VRID}
		if first, dup := seen[k]; dup {
			d.errorf(in.a.rng("virtual_router_id"), "Duplicate virtual_router_id",
				"instance %q already uses VRID %d for %s on %s; VRIDs must be unique per interface and family",
				first.cfg.Name, k.vrid, family(k.v6), k.iface)
			continue
		}
		seen[k] = in
	}
}

var trackScriptSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "command", Required: true}, {Name: "interval"}, {Name: "timeout"},
		{Name: "weight"}, {Name: "rise"}, {Name: "fall"},
	},
}

func (d *decoder) trackScript(b *hcl.Block) vrrp.TrackScript {
	ts := vrrp.TrackScript{Name: b.Labels[0], Interval: time.Second, Rise: 1, Fall: 1}
	a, _ := d.content(b.Body, trackScriptSchema)
	a.argv("command", &ts.Command)
	a.duration("interval", 10*time.Millisecond, time.Hour, &ts.Interval)
	ts.Timeout = ts.Interval
	if a.duration("timeout", time.Millisecond, time.Hour, &ts.Timeout) && ts.Timeout > ts.Interval {
		d.errorf(a.rng("timeout"), "timeout longer than interval", "a track script's run must end (timeout %s) before the next starts (interval %s)", ts.Timeout, ts.Interval)
	}
	a.integer("weight", -254, 254, &ts.Weight)
	a.integer("rise", 1, 100, &ts.Rise)
	a.integer("fall", 1, 100, &ts.Fall)
	return ts
}

// trackScriptRefs reports track_scripts entries naming no track_script.
func (d *decoder) trackScriptRefs(in *instanceSrc, scripts map[string]bool) {
	exprs, _ := in.a.list("track_scripts")
	for i, name := range in.cfg.TrackScripts {
		if !scripts[name] {
			d.errorf(exprs[i].Range(), "Unknown track_script", "no track_script %q is defined", name)
		}
	}
}

var syncGroupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "instances", Required: true}},
}

type syncGroupSrc struct {
	cfg vrrp.SyncGroup
	a   attrs
}

func (d *decoder) syncGroup(b *hcl.Block) *syncGroupSrc {
	g := &syncGroupSrc{cfg: vrrp.SyncGroup{Name: b.Labels[0]}}
	g.a, _ = d.content(b.Body, syncGroupSchema)
	if g.a.strings("instances", &g.cfg.Instances) && len(g.cfg.Instances) == 0 {
		d.errorf(g.a.rng("instances"), "Empty sync_group", "name the instances that change state together")
	}
	return g
}

// syncGroupRefs reports members that do not exist or belong to an earlier
// group too.
func (d *decoder) syncGroupRefs(g *syncGroupSrc, byName map[string]*instanceSrc, all []*syncGroupSrc) {
	exprs, _ := g.a.list("instances")
	for i, name := range g.cfg.Instances {
		if byName[name] == nil {
			d.errorf(exprs[i].Range(), "Unknown instance in sync_group", "no vrrp instance %q is defined", name)
			continue
		}
		for j, other := range g.cfg.Instances[:i] {
			if other == name {
				d.errorf(exprs[i].Range(), "Duplicate instance in sync_group", "%q is listed twice (first at %s)", name, at(exprs[j].Range()))
			}
		}
		for _, o := range all {
			if o == g {
				break
			}
			for _, other := range o.cfg.Instances {
				if other == name {
					d.errorf(exprs[i].Range(), "Instance in two sync groups", "%q is already a member of sync_group %q", name, o.cfg.Name)
				}
			}
		}
	}
}
