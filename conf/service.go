package conf

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
)

var serviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"}, {Name: "fwmark"}, {Name: "protocol"}, {Name: "scheduler"},
		{Name: "scheduler_flags"}, {Name: "forwarding"}, {Name: "persistence"},
		{Name: "persistence_netmask"}, {Name: "quorum"}, {Name: "hysteresis"},
		{Name: "sorry_server"}, {Name: "inhibit_on_failure"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "check", LabelNames: []string{"kind"}},
		{Type: "real_server", LabelNames: []string{"address"}},
	},
}

var realServerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "weight"}, {Name: "forwarding"}, {Name: "notify_up"}, {Name: "notify_down"},
		{Name: "upper_threshold"}, {Name: "lower_threshold"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "check", LabelNames: []string{"kind"}}},
}

// Service defaults.
const (
	DefaultScheduler = "wlc"
	DefaultWeight    = 1
)

type serviceSrc struct {
	cfg VirtualServer
	a   attrs
	key hcl.Range // where a duplicate service is reported
}

func (d *decoder) virtualServer(b *hcl.Block) *serviceSrc {
	vs := VirtualServer{
		Name:       b.Labels[0],
		Service:    ipvs.Service{Protocol: ipvs.TCP, Scheduler: DefaultScheduler},
		Forwarding: ipvs.NAT,
		Quorum:     1,
	}
	a, blocks := d.content(b.Body, serviceSchema)
	src := &serviceSrc{a: a, key: b.LabelRanges[0]}
	svc := &vs.Service

	var addr string
	var mark int
	hasAddr := a.str("address", &addr)
	hasMark := a.integer("fwmark", 1, math.MaxUint32, &mark)
	switch {
	case a.has("address") && a.has("fwmark"):
		d.errorf(a.rng("fwmark"), "Both address and fwmark", "a virtual server is either address = \"IP:PORT\" or fwmark = N, not both")
	case !a.has("address") && !a.has("fwmark"):
		d.errorf(b.DefRange, "Missing address or fwmark", "set address = \"192.0.2.100:80\" or fwmark = 10")
	case hasAddr:
		src.key = a.rng("address")
		ap, err := parseHostPort(addr)
		if err != nil {
			d.errorf(a.rng("address"), "Invalid address", "%s", err)
			break
		}
		svc.Address, svc.Port, svc.IPv6 = ap.Addr(), ap.Port(), ap.Addr().Is6()
	case hasMark:
		src.key = a.rng("fwmark")
		svc.FWMark = uint32(mark)
	}

	var s string
	if a.str("protocol", &s) {
		p, err := ipvs.ParseProtocol(s)
		if err != nil {
			d.errorf(a.rng("protocol"), "Unknown protocol", "%s", err)
		}
		svc.Protocol = p
	}
	if a.str("scheduler", &svc.Scheduler) && !ipvs.KnownScheduler(svc.Scheduler) {
		d.errorf(a.rng("scheduler"), "Unknown scheduler", "%q is not a kernel scheduler; use one of %s", svc.Scheduler, strings.Join(ipvs.Schedulers, " "))
	}
	d.schedulerFlags(a, svc)
	if a.str("forwarding", &s) {
		f, err := ipvs.ParseForwarding(s)
		if err != nil {
			d.errorf(a.rng("forwarding"), "Unknown forwarding method", "%s", err)
		}
		vs.Forwarding = f
	}
	a.duration("persistence", 0, math.MaxUint32*time.Second, &svc.Persistence)
	if svc.Persistence%time.Second != 0 {
		d.errorf(a.rng("persistence"), "Invalid persistence", "the kernel keeps persistence in whole seconds; %s is not", svc.Persistence)
	}
	if svc.Address.IsValid() && svc.Port == 0 && svc.Persistence == 0 {
		d.errorf(a.rng("address"), "Port 0 needs persistence", "a service on all ports (port 0) is only valid with persistence set")
	}
	a.integer("quorum", 1, math.MaxInt32, &vs.Quorum)
	if a.integer("hysteresis", 0, math.MaxInt32, &vs.Hysteresis) && vs.Hysteresis >= vs.Quorum {
		d.errorf(a.rng("hysteresis"), "hysteresis not below quorum", "the service goes down below quorum − hysteresis (%d − %d); keep hysteresis below quorum", vs.Quorum, vs.Hysteresis)
	}
	a.boolean("inhibit_on_failure", &vs.InhibitOnFailure)

	var defCheck *healthcheck.Config
	for _, cb := range blocks {
		if cb.Type == "check" {
			if defCheck != nil {
				d.errorf(cb.DefRange, "Duplicate check block", "a virtual server has one default check; put per-server checks in real_server blocks")
				continue
			}
			hc, _, _ := d.check(cb)
			defCheck = &hc
		}
	}

	seen := map[netip.AddrPort]hcl.Range{}
	for _, rb := range blocks {
		if rb.Type != "real_server" {
			continue
		}
		rs, ok := d.realServer(rb, &vs, defCheck)
		if !ok {
			continue
		}
		key := netip.AddrPortFrom(rs.Destination.Address, rs.Destination.Port)
		if first, dup := seen[key]; dup {
			d.errorf(rb.LabelRanges[0], "Duplicate real_server", "%s is already a real server of this service at %s", key, at(first))
			continue
		}
		seen[key] = rb.LabelRanges[0]
		vs.RealServers = append(vs.RealServers, rs)
	}
	// The family of an fwmark service is that of its real servers.
	if svc.FWMark != 0 && len(vs.RealServers) > 0 {
		svc.IPv6 = vs.RealServers[0].Destination.Address.Is6()
	}
	d.persistenceNetmask(a, svc)
	if a.str("sorry_server", &s) {
		if dst, ok := d.destination(a.rng("sorry_server"), s, &vs, vs.Forwarding, "sorry_server"); ok {
			vs.SorryServer = &dst
		}
	}
	src.cfg = vs
	return src
}

// schedulerFlags reads scheduler_flags, each checked against the scheduler.
func (d *decoder) schedulerFlags(a attrs, svc *ipvs.Service) {
	var names []string
	if !a.strings("scheduler_flags", &names) {
		return
	}
	exprs, _ := a.list("scheduler_flags")
	for i, name := range names {
		f, err := ipvs.ParseSchedulerFlag(svc.Scheduler, name)
		if err != nil {
			d.errorf(exprs[i].Range(), "Invalid scheduler flag", "%s", err)
			continue
		}
		svc.Flags |= f
	}
}

// persistenceNetmask reads the client netmask as a dotted IPv4 mask or a
// prefix length ("24", "/64").
func (d *decoder) persistenceNetmask(a attrs, svc *ipvs.Service) {
	bits := 32
	if svc.IPv6 {
		bits = 128
	}
	svc.PersistenceBits = bits
	var s string
	if !a.str("persistence_netmask", &s) {
		return
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(s, "/")); err == nil && n >= 1 && n <= bits {
		svc.PersistenceBits = n
		return
	}
	mask, err := netip.ParseAddr(s)
	if err == nil && mask.Is4() && !svc.IPv6 {
		m := mask.As4()
		v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
		if n := contiguousOnes(v); n > 0 {
			svc.PersistenceBits = n
			return
		}
	}
	d.errorf(a.rng("persistence_netmask"), "Invalid persistence_netmask",
		"%q is not a contiguous netmask like \"255.255.255.0\" or a prefix length 1..%d", s, bits)
}

// contiguousOnes returns the prefix length of a netmask, 0 if not a mask.
func contiguousOnes(v uint32) int {
	n := 0
	for v&0x80000000 != 0 {
		v <<= 1
		n++
	}
	if v != 0 {
		return 0
	}
	return n
}

func (d *decoder) realServer(b *hcl.Block, vs *VirtualServer, defCheck *healthcheck.Config) (RealServer, bool) {
	before := len(d.diags.Errs())
	a, blocks := d.content(b.Body, realServerSchema)
	fwd := vs.Forwarding
	var s string
	if a.str("forwarding", &s) {
		f, err := ipvs.ParseForwarding(s)
		if err != nil {
			d.errorf(a.rng("forwarding"), "Unknown forwarding method", "%s", err)
		}
		fwd = f
	}
	dst, ok := d.destination(b.LabelRanges[0], b.Labels[0], vs, fwd, "real_server")
	if !ok {
		return RealServer{}, false
	}
	rs := RealServer{Destination: dst}
	rs.Destination.Weight = DefaultWeight
	a.integer("weight", 0, 65535, &rs.Destination.Weight)
	var n int
	if a.integer("upper_threshold", 0, 65535, &n) {
		rs.Destination.UpperThreshold = uint32(n)
	}
	if a.integer("lower_threshold", 0, 65535, &n) {
		rs.Destination.LowerThreshold = uint32(n)
		if up := rs.Destination.UpperThreshold; up != 0 && uint32(n) > up {
			d.errorf(a.rng("lower_threshold"), "lower_threshold above upper_threshold", "%d > %d", n, up)
		}
	}
	a.argv("notify_up", &rs.NotifyUp)
	a.argv("notify_down", &rs.NotifyDown)

	rs.Check = defCheck
	checkRange := b.DefRange
	for _, cb := range onlyOne(d, blocks, "check") {
		hc, _, ok := d.check(cb)
		if ok {
			rs.Check = &hc
		}
		checkRange = cb.DefRange
	}
	if rs.Check != nil {
		hc := *rs.Check // each server owns its copy: the port may differ
		if hc.Port == 0 {
			hc.Port = dst.Port
		}
		if hc.Port == 0 && hc.Kind != healthcheck.Script {
			d.errorf(checkRange, "Check needs a port", "real server %s has no port (fwmark service); set port in its check", dst.Address)
		}
		if hc.SourceIP.IsValid() && hc.SourceIP.Is6() != dst.Address.Is6() {
			d.errorf(checkRange, "Check source_ip family differs", "source_ip %s cannot reach %s", hc.SourceIP, dst.Address)
		}
		rs.Check = &hc
	}
	return rs, len(d.diags.Errs()) == before
}

// destination parses a real or sorry server address and checks it against
// the service: family, and ports under DR/TUN, which cannot map them.
func (d *decoder) destination(rng hcl.Range, s string, vs *VirtualServer, fwd ipvs.Forwarding, what string) (ipvs.Destination, bool) {
	ap, err := parseHostPort(s)
	if err != nil {
		d.errorf(rng, "Invalid "+what+" address", "%s", err)
		return ipvs.Destination{}, false
	}
	svc := vs.Service
	dst := ipvs.Destination{Address: ap.Addr(), Port: ap.Port(), Forwarding: fwd}
	if svc.FWMark == 0 && svc.Address.IsValid() && dst.Address.Is6() != svc.IPv6 {
		d.errorf(rng, "Address family differs from the service", "%s %s is %s, the service is %s", what, dst.Address, family(dst.Address.Is6()), family(svc.IPv6))
		return dst, false
	}
	if svc.FWMark != 0 && len(vs.RealServers) > 0 && vs.RealServers[0].Destination.Address.Is6() != dst.Address.Is6() {
		d.errorf(rng, "Address family differs from the service", "fwmark services are one family; %s is %s, the first real server %s", dst.Address, family(dst.Address.Is6()), family(!dst.Address.Is6()))
		return dst, false
	}
	switch {
	case dst.Port == 0 && svc.FWMark == 0:
		dst.Port = svc.Port
	case dst.Port == 0 && fwd == ipvs.NAT:
		d.errorf(rng, "NAT "+what+" needs a port", "an fwmark service has no port of its own, so NAT must be told where to send: write %q", netip.AddrPortFrom(dst.Address, 80))
		return dst, false
	case !fwd.MapsPorts() && svc.FWMark == 0 && dst.Port != svc.Port:
		d.errorf(rng, "Port differs from the virtual port under "+fwd.String(),
			"%s forwarding sends packets unchanged, so %s must listen on port %d like the service; use forwarding = \"nat\" to map ports", fwd, what, svc.Port)
		return dst, false
	}
	return dst, true
}

// parseHostPort parses "IP:PORT", "[IPv6]:PORT" or a bare IP (port 0).
func parseHostPort(s string) (netip.AddrPort, error) {
	if ip, err := netip.ParseAddr(s); err == nil && ip.Zone() == "" {
		return netip.AddrPortFrom(ip, 0), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Addr().Zone() != "" {
		return ap, fmt.Errorf("%q is not IP:PORT (like \"192.0.2.21:80\" or \"[2001:db8::21]:80\")", s)
	}
	return ap, nil
}

// uniqueServices reports two virtual servers for the same kernel service.
func (d *decoder) uniqueServices(services []*serviceSrc) {
	type key struct {
		proto ipvs.Protocol
		addr  netip.AddrPort
		mark  uint32
		v6    bool
	}
	seen := map[key]*serviceSrc{}
	for _, s := range services {
		svc := s.cfg.Service
		if !svc.Address.IsValid() && svc.FWMark == 0 {
			continue
		}
		k := key{mark: svc.FWMark, v6: svc.IPv6}
		if svc.FWMark == 0 {
			k.proto, k.addr = svc.Protocol, netip.AddrPortFrom(svc.Address, svc.Port)
		}
		if first, dup := seen[k]; dup {
			d.errorf(s.key, "Duplicate virtual service", "virtual_server %q already is %s", first.cfg.Name, svc)
			continue
		}
		seen[k] = s
	}
}
