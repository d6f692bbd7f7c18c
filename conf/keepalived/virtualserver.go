package keepalived

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lvsd/lvsd/ipvs"
)

// virtual_server → virtual_server

var vsHarmless = map[string]string{
	"smtp_alert":           "lvsd sends no mail",
	"snmp_name":            "lvsd exports Prometheus metrics, not SNMP",
	"omega":                "lvsd runs no quorum or notify scripts on shutdown",
	"ha_suspend":           "lvsd checks real servers whether or not it holds the VIP",
	"ip_family":            "lvsd takes an fwmark service's family from its real servers",
	"sorry_server_inhibit": "lvsd removes or adds the sorry server whole",
	"log_all_failures":     "lvsd logs every health transition",
}

var vsChanges = map[string]string{
	"persistence_engine": "lvsd has no persistence engines (SIP)",
	"quorum_up":          "lvsd runs no quorum scripts; watch lvsd status or its metrics",
	"quorum_down":        "lvsd runs no quorum scripts; watch lvsd status or its metrics",
	"ops":                "lvsd has no one-packet scheduling",
}

// kaTarget is one IPVS service a virtual_server statement stands for.
type kaTarget struct {
	addr   netip.Addr
	port   int
	fwmark int
}

func (c *kaConv) virtualServer(n *kaNode) []*hBlock {
	var targets []kaTarget
	switch {
	case len(n.Args) == 2 && n.Args[0] == "fwmark":
		v, err := strconv.Atoi(n.Args[1])
		if err != nil || v < 1 || int64(v) > 1<<32-1 {
			c.errf(n.Pos, "virtual_server fwmark %q is not a mark within 1..4294967295", n.Args[1])
			return nil
		}
		targets = []kaTarget{{fwmark: v}}
	case len(n.Args) == 2 && n.Args[0] == "group":
		g := c.vsGroups[n.Args[1]]
		if g == nil {
			c.errf(n.Pos, "virtual_server group %q: no virtual_server_group of that name", n.Args[1])
			return nil
		}
		targets = c.vsGroupTargets(g)
		if len(targets) == 0 {
			return nil
		}
	case len(n.Args) == 1 || len(n.Args) == 2:
		a, ok := kaAddr(n.Args[0])
		if !ok {
			c.errf(n.Pos, "virtual_server: %q is not an IP address", n.Args[0])
			return nil
		}
		t := kaTarget{addr: a}
		if len(n.Args) == 2 {
			p, err := strconv.Atoi(n.Args[1])
			if err != nil || p < 0 || p > 65535 {
				c.errf(n.Pos, "virtual_server: %q is not a port", n.Args[1])
				return nil
			}
			t.port = p
		}
		targets = []kaTarget{t}
	default:
		c.errf(n.Pos, "virtual_server takes IP [PORT], fwmark N or group NAME")
		return nil
	}
	var out []*hBlock
	notes, errs := 0, 0
	for i, t := range targets {
		b := c.vsBlock(n, t)
		if len(targets) > 1 {
			b.comments = append([]string{fmt.Sprintf("keepalived: virtual_server group %s, entry %d of %d", n.Args[1], i+1, len(targets))}, b.comments...)
		}
		out = append(out, b)
		// The notes of the first expansion stand for all of them.
		if i == 0 {
			notes, errs = len(c.notes), len(c.errs)
		} else {
			c.notes, c.errs = c.notes[:notes], c.errs[:errs]
		}
	}
	return out
}

// vsGroupTargets expands a virtual_server_group's entries:
// IP [PORT], IP-RANGE [PORT], CIDR [PORT], fwmark N [inet|inet6].
func (c *kaConv) vsGroupTargets(g *kaNode) []kaTarget {
	var out []kaTarget
	for _, e := range g.Children {
		if e.Key == "fwmark" {
			v, err := strconv.Atoi(argOr(e, 0))
			if err != nil || v < 1 {
				c.errf(e.Pos, "virtual_server_group: fwmark %q is not a mark", argOr(e, 0))
				continue
			}
			out = append(out, kaTarget{fwmark: v})
			continue
		}
		port := 0
		if len(e.Args) > 0 {
			p, err := strconv.Atoi(e.Args[0])
			if err != nil || p < 0 || p > 65535 {
				c.errf(e.Pos, "virtual_server_group: %q is not a port", e.Args[0])
				continue
			}
			port = p
		}
		addrs, err := expandRange(e.Key)
		if err != nil {
			c.errf(e.Pos, "virtual_server_group: %v", err)
			continue
		}
		for _, a := range addrs {
			out = append(out, kaTarget{addr: a, port: port})
		}
	}
	if len(out) > 256 {
		c.errf(g.Pos, "virtual_server_group %s expands to %d services; the importer stops at 256", argOr(g, 0), len(out))
		return nil
	}
	return out
}

// expandRange expands "192.0.2.1-10", "192.0.2.250-192.0.3.10",
// "192.0.2.8/29" or a single address.
func expandRange(s string) ([]netip.Addr, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address range", s)
		}
		if p.Addr().BitLen()-p.Bits() > 8 {
			return nil, fmt.Errorf("%q holds more than 256 addresses", s)
		}
		var out []netip.Addr
		for a := p.Masked().Addr(); p.Contains(a); a = a.Next() {
			out = append(out, a)
		}
		return out, nil
	}
	from, to, isRange := strings.Cut(s, "-")
	first, ok := kaAddr(from)
	if !ok {
		return nil, fmt.Errorf("%q is not an IP address or range", s)
	}
	if !isRange {
		return []netip.Addr{first}, nil
	}
	last, ok := kaAddr(to)
	if !ok {
		// The last part replaces the last component of the first address.
		sep := "."
		base := 10
		if first.Is6() {
			sep, base = ":", 16
		}
		v, err := strconv.ParseUint(to, base, 16)
		i := strings.LastIndex(from, sep)
		if err != nil || i < 0 {
			return nil, fmt.Errorf("%q is not an IP address range", s)
		}
		suffix := strconv.FormatUint(v, base)
		last, ok = kaAddr(from[:i+1] + suffix)
		if !ok {
			return nil, fmt.Errorf("%q is not an IP address range", s)
		}
	}
	if last.Less(first) || last.Is6() != first.Is6() {
		return nil, fmt.Errorf("%q is not an ascending range", s)
	}
	n := new(big.Int).Sub(new(big.Int).SetBytes(last.AsSlice()), new(big.Int).SetBytes(first.AsSlice()))
	if n.Cmp(big.NewInt(255)) > 0 {
		return nil, fmt.Errorf("%q holds more than 256 addresses", s)
	}
	var out []netip.Addr
	for a := first; ; a = a.Next() {
		out = append(out, a)
		if a == last {
			break
		}
	}
	return out, nil
}

// kaVS is a virtual server being converted.
type kaVS struct {
	b       *hBlock
	t       kaTarget
	fwd     string // nat, dr, tun
	sched   string
	proto   string // tcp, udp, sctp, or what else was written
	defs    kaCheckDefs
	inhibit *bool
	inhNode *kaNode
	flags   []string
}

func vsName(t kaTarget, proto string) string {
	if t.fwmark != 0 {
		return "fwmark-" + strconv.Itoa(t.fwmark)
	}
	name := hostPort(t.addr, t.port)
	if proto != "tcp" {
		name += "/" + proto
	}
	return name
}

func (c *kaConv) vsBlock(n *kaNode, t kaTarget) *hBlock {
	vs := c.newVS(n, t)
	b := vs.b
	vsKeywords.convert(c, b, vs, n)
	if len(vs.flags) > 0 {
		b.attr("scheduler_flags", hList(hStrs(vs.flags)), n.Pos)
	}
	if t.fwmark == 0 && t.port == 0 && b.get("persistence") == nil {
		b.attr("persistence", hDur(360*time.Second), n.Pos, "keepalived makes a service on port 0 persistent, for 6 minutes")
		c.notes = append(c.notes, Note{File: n.Pos.File, Line: n.Pos.Line, Statement: stmt(n),
			Text: "carried over with persistence = \"360s\": a service on all ports must be persistent, and keepalived makes it so"})
	}
	// Real servers, then what they share.
	var rss []*kaRS
	for _, x := range n.Children {
		if x.Key == "real_server" {
			if rs := c.realServer(vs, x); rs != nil {
				rss = append(rss, rs)
			}
		}
	}
	c.quorum(b, rss)
	c.inhibitOnFailure(vs, rss)
	c.hoistCheck(b, rss)
	for _, rs := range rss {
		b.nest(rs.b)
	}
	return b
}

// newVS reads what the real servers depend on (forwarding, protocol,
// scheduler) and starts the service's block, named uniquely.
func (c *kaConv) newVS(n *kaNode, t kaTarget) *kaVS {
	vs := &kaVS{t: t, fwd: "nat", proto: "udp"}
	protoSet := false
	for _, x := range n.Children {
		switch x.Key {
		case "lb_kind", "lvs_method":
			if f, ok := kaForwarding(x); ok {
				vs.fwd = f
			}
		case "protocol":
			vs.proto, protoSet = strings.ToLower(argOr(x, 0)), true
		case "lb_algo", "lvs_sched":
			vs.sched = argOr(x, 0)
		}
	}
	if t.fwmark != 0 {
		vs.proto = "tcp"
	}
	name := vsName(t, vs.proto)
	if c.vsNames == nil {
		c.vsNames = map[string]int{}
	}
	c.vsNames[name]++
	if k := c.vsNames[name]; k > 1 {
		name += "#" + strconv.Itoa(k)
	}
	b := newBlock("virtual_server", n.Pos, name)
	b.comments, b.tail = n.Comments, n.Tail
	vs.b = b
	if t.fwmark != 0 {
		b.attr("fwmark", hInt(t.fwmark), n.Pos)
	} else {
		b.attr("address", hStr(hostPort(t.addr, t.port)), n.Pos)
		if !protoSet {
			b.attr("protocol", hStr("udp"), n.Pos, "keepalived defaults to UDP (the kernel's default) when protocol is not given")
			c.notes = append(c.notes, Note{File: n.Pos.File, Line: n.Pos.Line, Statement: stmt(n),
				Text: "carried over with protocol = \"udp\": keepalived defaults to UDP when protocol is not given; add protocol TCP if TCP was meant"})
		}
	}
	return vs
}

// vsKeywords converts the statements of a virtual_server; its real
// servers come after, when what they share is known.
var vsKeywords = keywords[*kaVS]{
	handle: map[string]func(*kaConv, *kaVS, *kaNode){
		"real_server": func(*kaConv, *kaVS, *kaNode) {},
		"lb_algo":     vsScheduler,
		"lvs_sched":   vsScheduler,
		"lb_kind":     vsForwarding,
		"lvs_method":  vsForwarding,
		"protocol": func(c *kaConv, vs *kaVS, x *kaNode) {
			if vs.t.fwmark != 0 {
				c.drop(vs.b, x, false, "an fwmark service covers whatever the firewall marks")
				return
			}
			switch vs.proto {
			case "tcp", "udp", "sctp":
				vs.b.attr("protocol", hStr(vs.proto), x.Pos, x.Comments...)
			default:
				c.errf(x.Pos, "protocol %q is not TCP, UDP or SCTP", argOr(x, 0))
			}
		},
		"persistence_timeout": func(c *kaConv, vs *kaVS, x *kaNode) {
			d := 360 * time.Second
			if len(x.Args) > 0 {
				v, ok := c.intArg(x, 0, 0, 1<<31-1)
				if !ok {
					return
				}
				d = time.Duration(v) * time.Second
			}
			vs.b.attr("persistence", hDur(d), x.Pos, x.Comments...)
		},
		"persistence_granularity": func(c *kaConv, vs *kaVS, x *kaNode) {
			if c.nargs(x, 1, 1) {
				vs.b.attr("persistence_netmask", hStr(x.Args[0]), x.Pos, x.Comments...)
			}
		},
		"quorum": func(c *kaConv, vs *kaVS, x *kaNode) {
			if v, ok := c.intArg(x, 0, 1, 1<<31-1); ok {
				vs.b.attr("quorum", hInt(v), x.Pos, x.Comments...)
			}
		},
		"hysteresis": func(c *kaConv, vs *kaVS, x *kaNode) {
			if v, ok := c.intArg(x, 0, 0, 1<<31-1); ok {
				vs.b.attr("hysteresis", hInt(v), x.Pos, x.Comments...)
			}
		},
		"sorry_server": func(c *kaConv, vs *kaVS, x *kaNode) {
			if !c.nargs(x, 1, 2) {
				return
			}
			addr, port, ok := c.destination(x)
			if !ok {
				return
			}
			if vs.fwd != "nat" && port != 0 && port != vs.t.port {
				if vs.t.fwmark == 0 {
					c.adjust(vs.b, x, false, fmt.Sprintf("carried over with port %d: %s forwarding sends packets unchanged (keepalived resets the port too)", vs.t.port, vs.fwd))
				}
				port = vs.t.port
			}
			vs.b.attr("sorry_server", hStr(hostPort(addr, port)), x.Pos, x.Comments...)
		},
		"sorry_server_lvs_method": func(c *kaConv, vs *kaVS, x *kaNode) {
			if f, ok := kaForwarding(x); ok && f == vs.fwd {
				c.drop(vs.b, x, false, "it is the service's forwarding method, which lvsd uses for the sorry server")
				return
			}
			c.drop(vs.b, x, true, "lvsd forwards to the sorry server with the service's method ("+vs.fwd+")")
		},
		"inhibit_on_failure": func(c *kaConv, vs *kaVS, x *kaNode) {
			if on, ok := c.inhibitArg(x); ok {
				vs.inhibit, vs.inhNode = on, x
			}
		},
		"flag-1":      vsSchedFlag,
		"flag-2":      vsSchedFlag,
		"flag-3":      vsSchedFlag,
		"sh-port":     vsSchedFlag,
		"sh-fallback": vsSchedFlag,
		"mh-port":     vsSchedFlag,
		"mh-fallback": vsSchedFlag,
	},
	shared:   func(c *kaConv, vs *kaVS, x *kaNode) bool { return c.defKeyword(vs.b, x, &vs.defs) },
	harmless: vsHarmless,
	changes:  vsChanges,
}

func vsScheduler(c *kaConv, vs *kaVS, x *kaNode) {
	if !c.nargs(x, 1, 1) {
		return
	}
	if !ipvs.KnownScheduler(x.Args[0]) {
		c.drop(vs.b, x, true, fmt.Sprintf("%q is not a scheduler lvsd knows (%s); the default wlc is used", x.Args[0], strings.Join(ipvs.Schedulers, " ")))
		vs.sched = "wlc"
		return
	}
	vs.b.attr("scheduler", hStr(x.Args[0]), x.Pos, x.Comments...)
}

func vsForwarding(c *kaConv, vs *kaVS, x *kaNode) { c.forwarding(vs.b, x, "nat") }

func vsSchedFlag(c *kaConv, vs *kaVS, x *kaNode) {
	f := schedFlagName(vs.sched, x.Key)
	if f == "" {
		c.drop(vs.b, x, true, "not a flag of scheduler "+vs.sched+" that lvsd knows")
		return
	}
	vs.flags = append(vs.flags, f)
}

// inhibitArg reads inhibit_on_failure [BOOL] of a service or real server.
func (c *kaConv) inhibitArg(x *kaNode) (*bool, bool) {
	on, ok := kaBool(x.Args)
	if !ok {
		c.errf(x.Pos, "inhibit_on_failure: %q is not a boolean", argOr(x, 0))
		return nil, false
	}
	return &on, true
}

// quorum mends quorum and hysteresis as keepalived does: a quorum above the
// real servers' total weight is lowered to it, and a hysteresis not below
// the quorum is dropped.
func (c *kaConv) quorum(b *hBlock, rss []*kaRS) {
	total := 0
	for _, rs := range rss {
		total += rs.weight
	}
	qv := 1
	q := b.get("quorum")
	if q != nil {
		qv, _ = strconv.Atoi(q.expr)
		if qv > total && total > 0 {
			q.comments = append(q.comments, fmt.Sprintf("keepalived: quorum %d — lowered to %d, the real servers' total weight, as keepalived lowers it", qv, total))
			c.notes = append(c.notes, Note{File: q.src.File, Line: q.src.Line, Statement: fmt.Sprintf("quorum %d", qv),
				Text: fmt.Sprintf("carried over as %d, the real servers' total weight, as keepalived lowers it", total)})
			qv = total
			q.expr = hInt(total)
		}
	}
	h := b.get("hysteresis")
	if h == nil {
		return
	}
	if hv, _ := strconv.Atoi(h.expr); hv >= qv || hv == 0 {
		if hv != 0 {
			c.notes = append(c.notes, Note{File: h.src.File, Line: h.src.Line, Statement: fmt.Sprintf("hysteresis %d", hv),
				Text: fmt.Sprintf("not carried over: it is not below quorum %d, and keepalived sets it to 0 then", qv)})
			b.comment(fmt.Sprintf("keepalived: hysteresis %d — not carried over: not below quorum %d, keepalived sets it to 0", hv, qv), h.src)
		}
		b.remove("hysteresis")
	}
}

func schedFlagName(sched, key string) string {
	switch key {
	case "flag-1":
		if sched == "sh" || sched == "mh" {
			return sched + "-fallback"
		}
	case "flag-2":
		if sched == "sh" || sched == "mh" {
			return sched + "-port"
		}
	case "sh-port", "sh-fallback", "mh-port", "mh-fallback":
		if strings.HasPrefix(key, sched+"-") {
			return key
		}
	}
	return ""
}

// kaForwarding reads NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum].
func kaForwarding(x *kaNode) (string, bool) {
	switch strings.ToUpper(argOr(x, 0)) {
	case "NAT":
		return "nat", true
	case "DR":
		return "dr", true
	case "TUN":
		return "tun", true
	}
	return "", false
}

// forwarding writes a forwarding attribute for lb_kind/lvs_method; def is
// what lvsd assumes without it.
func (c *kaConv) forwarding(b *hBlock, x *kaNode, def string) {
	f, ok := kaForwarding(x)
	if !ok {
		c.drop(b, x, true, fmt.Sprintf("%q is not a forwarding method lvsd knows (NAT, DR, TUN); %s is used", argOr(x, 0), def))
		return
	}
	if f == "tun" && len(x.Args) > 1 {
		rest := strings.Join(x.Args[1:], " ")
		if rest != "type ipip" {
			c.adjust(b, x, true, "carried over as tun with IPIP encapsulation: lvsd has no GUE/GRE tunnel options ("+rest+")")
		}
	}
	b.attr("forwarding", hStr(f), x.Pos, x.Comments...)
}

// destination reads "IP [PORT]" of a real or sorry server. Under DR and TUN
// the kernel sends packets on unchanged, so a port other than the
// service's means nothing there; lvsd wants the service's port, and the
// one written is kept for the check.
func (c *kaConv) destination(x *kaNode) (netip.Addr, int, bool) {
	a, ok := kaAddr(x.Args[0])
	if !ok {
		c.errf(x.Pos, "%s: %q is not an IP address", x.Key, x.Args[0])
		return a, 0, false
	}
	port := 0
	if len(x.Args) > 1 {
		p, err := strconv.Atoi(x.Args[1])
		if err != nil || p < 0 || p > 65535 {
			c.errf(x.Pos, "%s: %q is not a port", x.Key, x.Args[1])
			return a, 0, false
		}
		port = p
	}
	return a, port, true
}
