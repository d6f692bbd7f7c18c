package keepalived

import (
	"fmt"
	"math/big"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lvsd/lvsd/ipvs"
)

// virtual_server → virtual_server

// kaCheckDefs are the checker settings a virtual server passes to its
// real servers and a real server to its checkers.
type kaCheckDefs struct {
	delayLoop, connectTimeout *time.Duration
	retry                     *int
	virtualhost               *string
	timeoutExplicit           bool
}

func (d kaCheckDefs) with(o kaCheckDefs) kaCheckDefs {
	if o.delayLoop != nil {
		d.delayLoop = o.delayLoop
	}
	if o.connectTimeout != nil {
		d.connectTimeout = o.connectTimeout
		d.timeoutExplicit = true
	}
	if o.retry != nil {
		d.retry = o.retry
	}
	if o.virtualhost != nil {
		d.virtualhost = o.virtualhost
	}
	return d
}

// defKeyword reads a checker setting shared by the three levels; it
// reports whether x was one.
func (c *kaConv) defKeyword(b *hBlock, x *kaNode, d *kaCheckDefs) bool {
	switch x.Key {
	case "delay_loop":
		if v, ok := c.secondsArg(x, 0); ok {
			d.delayLoop = &v
		}
	case "connect_timeout":
		if v, ok := c.secondsArg(x, 0); ok {
			d.connectTimeout = &v
			d.timeoutExplicit = true
		}
	case "retry", "nb_get_retry", "nb_sock_retry":
		if v, ok := c.intArg(x, 0, 0, 999); ok {
			d.retry = &v
		}
	case "virtualhost":
		if c.nargs(x, 1, 1) {
			d.virtualhost = &x.Args[0]
		}
	case "delay_before_retry":
		c.drop(b, x, false, "lvsd retries at the check interval: a server goes down after fall (retry + 1) failed checks in a row")
	case "warmup":
		c.drop(b, x, false, "lvsd starts each check at once")
	case "alpha":
		c.drop(b, x, false, "lvsd starts every new real server down until its check passes, as alpha does")
	default:
		return false
	}
	return true
}

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
	defs    kaCheckDefs
	inhibit *bool
	inhNode *kaNode
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
	vs := &kaVS{t: t, fwd: "nat"}
	proto, protoSet := "udp", false
	// What the real servers depend on comes first.
	for _, x := range n.Children {
		switch x.Key {
		case "lb_kind", "lvs_method":
			if f, ok := kaForwarding(x); ok {
				vs.fwd = f
			}
		case "protocol":
			proto, protoSet = strings.ToLower(argOr(x, 0)), true
		case "lb_algo", "lvs_sched":
			vs.sched = argOr(x, 0)
		}
	}
	if t.fwmark != 0 {
		proto = "tcp"
	}
	name := vsName(t, proto)
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

	var flags []string
	for _, x := range n.Children {
		switch x.Key {
		case "real_server":
			continue
		case "lb_algo", "lvs_sched":
			if !c.nargs(x, 1, 1) {
				continue
			}
			if !ipvs.KnownScheduler(x.Args[0]) {
				c.drop(b, x, true, fmt.Sprintf("%q is not a scheduler lvsd knows (%s); the default wlc is used", x.Args[0], strings.Join(ipvs.Schedulers, " ")))
				vs.sched = "wlc"
				continue
			}
			b.attr("scheduler", hStr(x.Args[0]), x.Pos, x.Comments...)
		case "lb_kind", "lvs_method":
			c.forwarding(b, x, "nat")
		case "protocol":
			if t.fwmark != 0 {
				c.drop(b, x, false, "an fwmark service covers whatever the firewall marks")
				continue
			}
			switch proto {
			case "tcp", "udp", "sctp":
				b.attr("protocol", hStr(proto), x.Pos, x.Comments...)
			default:
				c.errf(x.Pos, "protocol %q is not TCP, UDP or SCTP", argOr(x, 0))
			}
		case "persistence_timeout":
			d := 360 * time.Second
			if len(x.Args) > 0 {
				v, ok := c.intArg(x, 0, 0, 1<<31-1)
				if !ok {
					continue
				}
				d = time.Duration(v) * time.Second
			}
			b.attr("persistence", hDur(d), x.Pos, x.Comments...)
		case "persistence_granularity":
			if c.nargs(x, 1, 1) {
				b.attr("persistence_netmask", hStr(x.Args[0]), x.Pos, x.Comments...)
			}
		case "quorum":
			if v, ok := c.intArg(x, 0, 1, 1<<31-1); ok {
				b.attr("quorum", hInt(v), x.Pos, x.Comments...)
			}
		case "hysteresis":
			if v, ok := c.intArg(x, 0, 0, 1<<31-1); ok {
				b.attr("hysteresis", hInt(v), x.Pos, x.Comments...)
			}
		case "sorry_server":
			if !c.nargs(x, 1, 2) {
				continue
			}
			if addr, port, ok := c.destination(vs, x); ok {
				if vs.fwd != "nat" && port != 0 && port != t.port {
					if t.fwmark == 0 {
						c.adjust(b, x, false, fmt.Sprintf("carried over with port %d: %s forwarding sends packets unchanged (keepalived resets the port too)", t.port, vs.fwd))
					}
					port = t.port
				}
				b.attr("sorry_server", hStr(hostPort(addr, port)), x.Pos, x.Comments...)
			}
		case "sorry_server_lvs_method":
			if f, ok := kaForwarding(x); ok && f == vs.fwd {
				c.drop(b, x, false, "it is the service's forwarding method, which lvsd uses for the sorry server")
				continue
			}
			c.drop(b, x, true, "lvsd forwards to the sorry server with the service's method ("+vs.fwd+")")
		case "inhibit_on_failure":
			on, ok := kaBool(x.Args)
			if !ok {
				c.errf(x.Pos, "inhibit_on_failure: %q is not a boolean", argOr(x, 0))
				continue
			}
			vs.inhibit, vs.inhNode = &on, x
		case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
			f := schedFlagName(vs.sched, x.Key)
			if f == "" {
				c.drop(b, x, true, "not a flag of scheduler "+vs.sched+" that lvsd knows")
				continue
			}
			flags = append(flags, f)
		default:
			if c.defKeyword(b, x, &vs.defs) {
				continue
			}
			if why, ok := vsHarmless[x.Key]; ok {
				c.drop(b, x, false, why)
				continue
			}
			if why, ok := vsChanges[x.Key]; ok {
				c.drop(b, x, true, why)
				continue
			}
			c.drop(b, x, true, "not a virtual_server keyword the importer knows")
		}
	}
	if len(flags) > 0 {
		b.attr("scheduler_flags", hList(hStrs(flags)), n.Pos)
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
func (c *kaConv) destination(vs *kaVS, x *kaNode) (netip.Addr, int, bool) {
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

// kaRS is a real server being converted.
type kaRS struct {
	b       *hBlock
	weight  int
	check   *hBlock
	inhibit *bool
	node    *kaNode
	inhNode *kaNode
}

var rsHarmless = map[string]string{
	"smtp_alert": "lvsd sends no mail",
	"snmp_name":  "lvsd exports Prometheus metrics, not SNMP",
}

var checkKinds = map[string]string{
	"TCP_CHECK": "tcp", "HTTP_GET": "http", "SSL_GET": "http", "MISC_CHECK": "script", "DNS_CHECK": "dns",
}

var checkMissing = map[string]string{
	"SMTP_CHECK": "lvsd has no SMTP check; a tcp check on port 25 comes closest",
	"UDP_CHECK":  "lvsd has no UDP check",
	"PING_CHECK": "lvsd has no ICMP check",
	"BFD_CHECK":  "lvsd has no BFD",
	"FILE_CHECK": "lvsd has no file check",
}

func (c *kaConv) realServer(vs *kaVS, x *kaNode) *kaRS {
	if !c.nargs(x, 1, 2) {
		return nil
	}
	addr, port, ok := c.destination(vs, x)
	if !ok {
		return nil
	}
	rs := &kaRS{node: x, weight: 1}
	fwd := vs.fwd
	for _, s := range x.Children {
		if s.Key == "lb_kind" || s.Key == "lvs_method" {
			if f, ok := kaForwarding(s); ok {
				fwd = f
			}
		}
	}
	checkPort := 0
	label := port
	switch {
	case fwd == "nat" || port == 0:
	case vs.t.fwmark != 0:
		label, checkPort = 0, port
	case port != vs.t.port:
		label, checkPort = vs.t.port, port
	}
	b := newBlock("real_server", x.Pos, hostPort(addr, label))
	b.comments, b.tail = x.Comments, x.Tail
	rs.b = b
	probe := ""
	if checkPort != 0 && !hasConnectPort(x) {
		probe = fmt.Sprintf("; its check probes port %d", port)
	}
	switch {
	case checkPort != 0 && label == 0:
		c.adjust(b, x, false, fmt.Sprintf("carried over without its port: %s forwarding of an fwmark service sends packets unchanged (keepalived clears the port too)%s", fwd, probe))
	case checkPort != 0:
		c.adjust(b, x, false, fmt.Sprintf("carried over as port %d: %s forwarding sends packets unchanged, so the server listens on the service's port (keepalived resets it too)%s", label, fwd, probe))
	}
	defs := vs.defs
	var own kaCheckDefs
	var checkers []*kaNode
	notified := false
	for _, s := range x.Children {
		switch {
		case s.Key == "weight":
			if v, ok := c.intArg(s, 0, 0, 65535); ok {
				b.attr("weight", hInt(v), s.Pos, s.Comments...)
				rs.weight = v
			}
		case s.Key == "lb_kind" || s.Key == "lvs_method":
			if f, _ := kaForwarding(s); f == vs.fwd {
				continue // the service's own
			}
			c.forwarding(b, s, vs.fwd)
		case s.Key == "notify_up" || s.Key == "notify_down":
			if argv, ok := c.command(b, s); ok {
				comments := append([]string{}, s.Comments...)
				if !notified {
					notified = true
					comments = append(comments, "lvsd appends UP or DOWN and the server's address; keepalived appended nothing")
					c.addNote(s, false, "carried over; lvsd appends UP or DOWN and the server's address to the command, keepalived appended nothing")
				}
				b.attr(s.Key, hList(hStrs(argv)), s.Pos, comments...)
			}
		case s.Key == "uthreshold" || s.Key == "lthreshold":
			if v, ok := c.intArg(s, 0, 0, 65535); ok {
				b.attr(map[string]string{"uthreshold": "upper_threshold", "lthreshold": "lower_threshold"}[s.Key], hInt(v), s.Pos, s.Comments...)
			}
		case s.Key == "inhibit_on_failure":
			on, ok := kaBool(s.Args)
			if !ok {
				c.errf(s.Pos, "inhibit_on_failure: %q is not a boolean", argOr(s, 0))
				continue
			}
			rs.inhibit, rs.inhNode = &on, s
		case checkKinds[s.Key] != "":
			checkers = append(checkers, s)
		case checkMissing[s.Key] != "":
			c.drop(b, s, true, checkMissing[s.Key]+"; the server is not checked by it")
		default:
			if c.defKeyword(b, s, &own) {
				continue
			}
			if why, ok := rsHarmless[s.Key]; ok {
				c.drop(b, s, false, why)
				continue
			}
			c.drop(b, s, true, "not a real_server keyword the importer knows")
		}
	}
	defs = defs.with(own)
	for i, s := range checkers {
		if i > 0 {
			c.drop(b, s, true, "lvsd runs one check per real server; keepalived needed all of them to pass, lvsd only the first")
			continue
		}
		rs.check = c.checker(b, s, defs, checkPort)
	}
	if rs.check != nil {
		b.nest(rs.check)
	}
	return rs
}

func hasConnectPort(rs *kaNode) bool {
	for _, s := range rs.Children {
		if checkKinds[s.Key] != "" {
			for _, o := range s.Children {
				if o.Key == "connect_port" {
					return true
				}
			}
			return false // only the first checker counts
		}
	}
	return false
}

// inhibitOnFailure sets the service's inhibit_on_failure: lvsd has it per
// service, keepalived per real server.
func (c *kaConv) inhibitOnFailure(vs *kaVS, rss []*kaRS) {
	want := false
	switch {
	case vs.inhibit != nil:
		want = *vs.inhibit
	case len(rss) > 0:
		want = true
		for _, rs := range rss {
			if rs.inhibit == nil || !*rs.inhibit {
				want = false
			}
		}
	}
	if want {
		src := kaPos{}
		var comments []string
		if vs.inhNode != nil {
			src, comments = vs.inhNode.Pos, vs.inhNode.Comments
		} else if len(rss) > 0 && rss[0].inhNode != nil {
			src = rss[0].inhNode.Pos
			comments = []string{"keepalived: inhibit_on_failure on every real_server"}
		}
		vs.b.attr("inhibit_on_failure", hBool(true), src, comments...)
	}
	for _, rs := range rss {
		eff := want
		if rs.inhibit != nil {
			eff = *rs.inhibit
		} else if vs.inhibit != nil {
			eff = *vs.inhibit
		} else {
			eff = false
		}
		if eff != want {
			at := &kaNode{Key: rs.node.Key, Args: rs.node.Args, Pos: rs.node.Pos, Block: true}
			if rs.inhNode != nil {
				at = rs.inhNode
			}
			c.drop(rs.b, at, true, fmt.Sprintf("lvsd has inhibit_on_failure per virtual_server (%t here), not per real server", want))
		}
	}
}

// hoistCheck moves a check that every real server has alike to the
// service, where lvsd gives it to each of them.
func (c *kaConv) hoistCheck(b *hBlock, rss []*kaRS) {
	if len(rss) < 2 {
		return
	}
	var first string
	for i, rs := range rss {
		if rs.check == nil {
			return
		}
		out, _ := renderHCL([]*hBlock{rs.check})
		if i == 0 {
			first = string(out)
		} else if string(out) != first {
			return
		}
	}
	b.nest(rss[0].check)
	for _, rs := range rss {
		for i, it := range rs.b.items {
			if it.kind == hNested && it.block == rs.check {
				rs.b.items = append(rs.b.items[:i], rs.b.items[i+1:]...)
				break
			}
		}
	}
}

// checker converts TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK or DNS_CHECK.
func (c *kaConv) checker(rs *hBlock, x *kaNode, defs kaCheckDefs, port int) *hBlock {
	kind := checkKinds[x.Key]
	b := newBlock("check", x.Pos, kind)
	b.comments, b.tail = x.Comments, x.Tail
	retry := 1
	switch x.Key {
	case "DNS_CHECK":
		retry = 3
	case "MISC_CHECK":
		retry = 0
	}
	var (
		own                        kaCheckDefs
		sourceIP, dnsName, dnsType string
		command                    []string
		miscTimeout                *time.Duration
		url                        *kaNode
		urls                       int
		hasDNSName                 bool
	)
	for _, s := range x.Children {
		switch s.Key {
		case "connect_port":
			if v, ok := c.intArg(s, 0, 1, 65535); ok {
				port = v
			}
		case "bindto":
			if c.nargs(s, 1, 1) {
				sourceIP = s.Args[0]
			}
		case "connect_ip":
			c.drop(b, s, true, "lvsd checks the real server's own address")
		case "fwmark":
			c.drop(b, s, true, "lvsd does not mark its check packets")
		case "bind_port":
			c.drop(b, s, false, "lvsd lets the kernel pick the source port")
		case "bind_if":
			c.drop(b, s, false, "lvsd lets routing pick the interface")
		case "log_all_failures":
			c.drop(b, s, false, "lvsd logs every health transition")
		case "url":
			urls++
			if urls > 1 {
				c.drop(b, s, true, "lvsd checks one URL per server; keepalived needed every url to pass, lvsd checks only the first")
				continue
			}
			url = s
		case "http_protocol":
			c.drop(b, s, false, "lvsd speaks HTTP/1.1 and closes the connection")
		case "fast_recovery":
			c.drop(b, s, false, "lvsd checks one URL, so there is nothing to speed up")
		case "enable_sni":
			c.drop(b, s, false, "lvsd's Go TLS client sends SNI when host is set")
		case "type":
			dnsType = strings.ToUpper(argOr(s, 0))
		case "name":
			dnsName, hasDNSName = argOr(s, 0), true
		case "misc_path":
			if argv, ok := c.command(b, s); ok {
				command = argv
			}
		case "misc_timeout":
			if v, ok := c.secondsArg(s, 0); ok {
				miscTimeout = &v
			}
		case "misc_dynamic":
			c.drop(b, s, true, "lvsd does not set weights from a script's exit code; exit 0 is up, anything else down")
		case "user":
			if c.nargs(s, 1, 2) {
				c.scriptAs(b, s, s.Args[0])
			}
		default:
			if c.defKeyword(b, s, &own) {
				continue
			}
			c.drop(b, s, true, "not a "+x.Key+" keyword the importer knows")
		}
	}
	defs = defs.with(own)
	if defs.retry != nil {
		retry = *defs.retry
	}
	interval := 60 * time.Second
	if defs.delayLoop != nil {
		interval = *defs.delayLoop
	}
	if interval < 10*time.Millisecond || interval > time.Hour {
		was := interval
		interval = min(max(interval, 10*time.Millisecond), time.Hour)
		b.comment(fmt.Sprintf("keepalived: delay_loop %s — carried over as %s, within lvsd's range", hDur(was), hDur(interval)), x.Pos)
		c.addNote(x, false, "delay_loop "+hDur(was)+" carried over as "+hDur(interval)+", within lvsd's range")
	}
	timeout := 5 * time.Second
	explicit := defs.timeoutExplicit
	if defs.connectTimeout != nil {
		timeout = *defs.connectTimeout
	}
	if kind == "script" {
		timeout, explicit = interval, miscTimeout != nil
		if miscTimeout != nil {
			timeout = *miscTimeout
		}
	}
	if timeout >= interval {
		was := timeout
		timeout = max((interval * 9 / 10).Truncate(time.Millisecond), time.Millisecond)
		if explicit {
			b.comment(fmt.Sprintf("keepalived: timeout %s — carried over as %s: lvsd ends a check before the next one starts", hDur(was), hDur(timeout)), x.Pos)
			c.addNote(x, false, fmt.Sprintf("the check timeout %s is not below the interval %s; carried over as %s, since lvsd ends a check before the next one starts", hDur(was), hDur(interval), hDur(timeout)))
		}
	}
	timeout = max(timeout, time.Millisecond)
	b.attr("interval", hDur(interval), x.Pos)
	b.attr("timeout", hDur(timeout), x.Pos)
	b.attr("rise", hInt(1), x.Pos)
	b.attr("fall", hInt(min(retry+1, 1000)), x.Pos)
	if port != 0 && kind != "script" {
		b.attr("port", hInt(port), x.Pos)
	}
	if sourceIP != "" {
		b.attr("source_ip", hStr(sourceIP), x.Pos)
	}

	switch x.Key {
	case "HTTP_GET", "SSL_GET":
		host := ""
		if defs.virtualhost != nil {
			host = *defs.virtualhost
		}
		if url == nil {
			c.errf(x.Pos, "%s has no url { path … }", x.Key)
			break
		}
		c.url(b, url, &host)
		if host != "" {
			b.attr("host", hStr(host), url.Pos)
		}
		if x.Key == "SSL_GET" {
			b.attr("tls", hBool(true), x.Pos)
			b.attr("tls_verify", hBool(false), x.Pos, "keepalived's SSL_GET does not verify the server's certificate")
		}
	case "MISC_CHECK":
		if command == nil {
			c.errf(x.Pos, "MISC_CHECK has no misc_path")
			break
		}
		b.attr("command", hList(hStrs(command)), x.Pos)
	case "DNS_CHECK":
		if dnsType == "" {
			dnsType = "SOA"
		}
		switch dnsType {
		case "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA":
		default:
			c.errf(x.Pos, "DNS_CHECK type %q is not A, NS, CNAME, SOA, MX, TXT or AAAA", dnsType)
		}
		if !hasDNSName || strings.Trim(dnsName, ".") == "" {
			c.addNote(x, true, "lvsd's dns check asks for a domain name, not the root (.), keepalived's default; name = \"localhost\" stands in: set a zone the server answers for")
			b.comment("keepalived: DNS_CHECK asked for \".\" — not carried over: lvsd needs a domain name; \"localhost\" stands in", x.Pos)
			dnsName = "localhost"
		}
		b.attr("name", hStr(dnsName), x.Pos)
		b.attr("type", hStr(dnsType), x.Pos)
	}
	return b
}

// url { path digest status_code virtualhost regex … }
func (c *kaConv) url(b *hBlock, u *kaNode, host *string) {
	path := "/"
	var status []int
	for _, s := range u.Children {
		switch s.Key {
		case "path":
			if c.nargs(s, 1, 1) {
				path = s.Args[0]
			}
		case "digest":
			if c.nargs(s, 1, 1) {
				b.attr("digest", hStr(strings.ToLower(s.Args[0])), s.Pos, s.Comments...)
			}
		case "status_code":
			codes, ok := c.statusCodes(s)
			if ok {
				status = append(status, codes...)
			}
		case "virtualhost":
			if c.nargs(s, 1, 1) {
				*host = s.Args[0]
			}
		case "regex":
			if !c.nargs(s, 1, 1) {
				continue
			}
			if _, err := regexp.Compile(s.Args[0]); err != nil {
				c.drop(b, s, true, "not a regular expression lvsd (RE2) understands: "+err.Error())
				continue
			}
			b.attr("body_regex", hStr(s.Args[0]), s.Pos, s.Comments...)
		case "regex_no_match":
			c.drop(b, s, true, "lvsd has no inverted body match")
		case "regex_options":
			c.drop(b, s, true, "lvsd has no regex options; write them in the pattern, like (?i)")
		case "regex_min_offset", "regex_max_offset":
			c.drop(b, s, true, "lvsd matches the whole body")
		case "regex_stack":
			c.drop(b, s, false, "lvsd's RE2 needs no stack")
		default:
			c.drop(b, s, true, "not a url keyword the importer knows")
		}
	}
	b.insertAfter(&hItem{kind: hAttr, name: "path", expr: hStr(path), src: u.Pos}, "source_ip", "port", "fall")
	if isDefaultStatus(status) {
		return
	}
	exprs := make([]string, len(status))
	for i, s := range status {
		exprs[i] = hInt(s)
	}
	b.insertAfter(&hItem{kind: hAttr, name: "status", expr: hList(exprs), src: u.Pos}, "path")
}

// statusCodes reads "200", "200-299 304" and the like.
func (c *kaConv) statusCodes(s *kaNode) ([]int, bool) {
	var out []int
	seen := map[int]bool{}
	for _, a := range s.Args {
		lo, hi, isRange := strings.Cut(a, "-")
		l, err1 := strconv.Atoi(lo)
		h := l
		var err2 error
		if isRange {
			h, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || l < 100 || h > 599 || h < l {
			c.errf(s.Pos, "status_code: %q is not a status or range within 100..599", a)
			return nil, false
		}
		for v := l; v <= h; v++ {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out, true
}

// isDefaultStatus: none given, or exactly 200-299, is lvsd's default.
func isDefaultStatus(s []int) bool {
	if len(s) == 0 {
		return true
	}
	if len(s) != 100 {
		return false
	}
	for i, v := range s {
		if v != 200+i {
			return false
		}
	}
	return true
}
