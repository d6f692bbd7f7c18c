package keepalived

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// vrrp_instance → vrrp

var instanceHarmless = map[string]string{
	"smtp_alert":                 "lvsd sends no mail",
	"debug":                      "lvsd has global.log_level",
	"native_ipv6":                "lvsd takes the family from the virtual IPs",
	"skip_check_adv_addr":        "lvsd always checks the addresses of adverts",
	"strict_mode":                "lvsd installs no firewall rules, so the VIPs accept traffic, and it allows unicast and preempt_delay",
	"check_unicast_src":          "lvsd accepts unicast adverts only from its unicast_peers",
	"unicast_ttl":                "lvsd sends adverts with TTL 255, as the RFCs require",
	"unicast_fault_no_peer":      "an lvsd instance without unicast_peers uses multicast",
	"old_unicast_checksum":       "lvsd uses the RFC 5798 checksum",
	"garp_master_refresh_repeat": "lvsd sends one GARP per VIP on each refresh",
	"garp_lower_prio_delay":      "lvsd re-announces at once when it hears a lower priority",
	"garp_lower_prio_repeat":     "lvsd re-announces at once when it hears a lower priority",
	"garp_extra_if":              "lvsd announces on the instance's interface",
	"garp_extra_if_vmac":         "lvsd announces on the instance's interface",
	"lower_prio_no_advert":       "lvsd answers a lower priority advert at once",
	"higher_prio_send_advert":    "lvsd has no such setting",
	"accept":                     "lvsd holds the VIPs as local addresses: they accept traffic",
	"notify_priority_changes":    "lvsd has no notify FIFO",
	"kernel_rx_buf_size":         "socket tuning of keepalived",
	"linkbeat_use_polling":       "lvsd watches links through netlink",
	"promote_secondaries":        "lvsd leaves the interface's settings alone",
	"track_src_ip":               "lvsd has no such setting",
	"use_vmac_addr":              "lvsd uses no VMAC",
	"notify_stop_on_reload":      "lvsd keeps state across a reload",
}

var instanceChanges = map[string]string{
	"use_vmac":                   "lvsd uses the interface's own MAC (no VMAC); peers and switches see the director's MAC move",
	"vmac_xmit_base":             "lvsd uses no VMAC",
	"use_ipvlan":                 "lvsd creates no ipvlan interface",
	"vrf":                        "lvsd has no VRF support",
	"track_file":                 "lvsd tracks only interfaces and scripts",
	"track_process":              "lvsd tracks only interfaces and scripts; a track_script with pgrep can replace it",
	"track_bfd":                  "lvsd tracks only interfaces and scripts",
	"virtual_routes":             "lvsd adds no routes on becoming master; use a notify script",
	"virtual_rules":              "lvsd adds no rules on becoming master; use a notify script",
	"no_accept":                  "lvsd installs no firewall rules: the VIPs accept traffic",
	"notify":                     "lvsd has no generic notify script; use notify { master backup fault stop }",
	"notify_master_rx_lower_pri": "lvsd has no such notify script",
	"notify_deleted":             "lvsd has no such notify script",
	"notify_fifo":                "lvsd has no notify FIFO",
}

type kaList struct {
	item *hItem
	vals []string
	seen map[string]bool
}

// vrrpConv is a vrrp_instance being converted.
type vrrpConv struct {
	name string
	b    *hBlock
	// What decides the rest, read before the statements are converted.
	iface           string
	version         int
	explicitVersion int
	versionNode     *kaNode
	v6              bool
	trackPrimary    bool
	master          bool // state MASTER

	lists       map[string]*kaList // list attributes, built up statement by statement
	garp        *hBlock
	hasVRID     bool
	notifyFirst *kaNode
}

// list adds vals to the list attribute attr, each value once, made at
// its first use.
func (v *vrrpConv) list(attr string, pos kaPos, comments []string, vals ...string) {
	l := v.lists[attr]
	if l == nil {
		l = &kaList{item: v.b.attr(attr, "", pos, comments...), seen: map[string]bool{}}
		v.lists[attr] = l
	} else {
		l.item.comments = append(l.item.comments, comments...)
	}
	for _, val := range vals {
		if !l.seen[val] {
			l.seen[val] = true
			l.vals = append(l.vals, val)
		}
	}
}

func (v *vrrpConv) garpBlock(pos kaPos) *hBlock {
	if v.garp == nil {
		v.garp = v.b.child("garp", pos)
	}
	return v.garp
}

func (c *kaConv) instance(n *kaNode) *hBlock {
	v := c.newVRRPConv(n)
	vrrpKeywords.convert(c, v.b, v, n)
	// Tracking set on the sync group applies to every member.
	if g := c.groups[v.name]; g != nil {
		for _, x := range g.tracks {
			for _, e := range x.Children {
				if x.Key == "track_script" {
					c.trackEntry(v, x, &kaNode{Key: e.Key, Args: e.Args, Pos: e.Pos}, g.name)
				} else {
					c.trackIface(v, x, &kaNode{Key: e.Key, Args: e.Args, Pos: e.Pos})
				}
			}
		}
	}
	c.finishInstance(v, n)
	return v.b
}

// newVRRPConv reads what decides the rest of an instance: interface,
// family and version.
func (c *kaConv) newVRRPConv(n *kaNode) *vrrpConv {
	v := &vrrpConv{name: n.Args[0], b: newBlock("vrrp", n.Pos, n.Args[0]), trackPrimary: true, lists: map[string]*kaList{}}
	v.b.comments, v.b.tail = n.Comments, n.Tail
	for _, x := range n.Children {
		switch x.Key {
		case "state":
			v.master = strings.EqualFold(argOr(x, 0), "MASTER")
		case "interface":
			v.iface = argOr(x, 0)
		case "version":
			if ver, ok := c.intArg(x, 0, 2, 3); ok {
				v.explicitVersion, v.versionNode = ver, x
			}
		case "virtual_ipaddress":
			if len(x.Children) > 0 && !v.v6 {
				if p, err := conf.ParseVIP(x.Children[0].Key); err == nil {
					v.v6 = p.Addr().Is6()
				}
			}
		case "dont_track_primary":
			v.trackPrimary = false
		}
	}
	v.version = c.defVersion
	if v.explicitVersion != 0 {
		v.version = v.explicitVersion
	}
	if v.v6 && v.version == 2 {
		v.version = 3 // keepalived runs IPv6 instances as v3 whatever it is told
	}
	return v
}

// vrrpKeywords converts the statements of a vrrp_instance.
var vrrpKeywords = keywords[*vrrpConv]{
	handle: map[string]func(*kaConv, *vrrpConv, *kaNode){
		"state": func(c *kaConv, v *vrrpConv, x *kaNode) {
			c.drop(v.b, x, false, "lvsd elects the master by priority; every director starts as backup")
		},
		"interface": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if c.nargs(x, 1, 1) {
				v.b.attr("interface", hStr(x.Args[0]), x.Pos, x.Comments...)
			}
		},
		"virtual_router_id": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if id, ok := c.intArg(x, 0, 1, 255); ok {
				v.b.attr("virtual_router_id", hInt(id), x.Pos, x.Comments...)
				v.hasVRID = true
			}
		},
		"priority": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if p, ok := c.intArg(x, 0, 1, 255); ok {
				v.b.attr("priority", hInt(p), x.Pos, x.Comments...)
			}
		},
		"advert_int": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if d, ok := c.secondsArg(x, 0); ok {
				c.advertInt(v.b, x, d, v.version)
			}
		},
		"version": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if v.v6 && v.explicitVersion == 2 {
				c.adjust(v.b, x, false, "carried over as version = 3: keepalived runs IPv6 instances as VRRP v3 too")
			}
		},
		"nopreempt":  vrrpNoPreempt,
		"no_preempt": vrrpNoPreempt,
		"preempt": func(c *kaConv, v *vrrpConv, x *kaNode) {
			v.b.attr("preempt", hBool(true), x.Pos, x.Comments...)
		},
		"preempt_delay": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if v.master {
				c.drop(v.b, x, false, "keepalived ignores it with state MASTER (it says so and clears it)")
				return
			}
			if d, ok := c.secondsArg(x, 0); ok {
				if d > time.Hour {
					c.adjust(v.b, x, false, "shortened to lvsd's maximum of 1h")
					d = time.Hour
				}
				v.b.attr("preempt_delay", hDur(d), x.Pos, x.Comments...)
			}
		},
		"virtual_ipaddress":          vrrpVIPs,
		"virtual_ipaddress_excluded": vrrpVIPs,
		"mcast_src_ip":               vrrpSourceIP,
		"unicast_src_ip":             vrrpSourceIP,
		"unicast_peer": func(c *kaConv, v *vrrpConv, x *kaNode) {
			for i, e := range x.Children {
				if len(e.Args) > 0 {
					c.addNote(e, false, "min_ttl/max_ttl not carried over: lvsd requires TTL 255 on every advert")
				}
				v.list("unicast_peers", x.Pos, firstComments(x, e, i == 0), e.Key)
			}
		},
		"authentication": func(c *kaConv, v *vrrpConv, x *kaNode) {
			c.authentication(v.b, x, v.version)
		},
		"track_interface": func(c *kaConv, v *vrrpConv, x *kaNode) {
			for _, e := range x.Children {
				c.trackIface(v, x, e)
			}
		},
		"track_script": func(c *kaConv, v *vrrpConv, x *kaNode) {
			for _, e := range x.Children {
				c.trackEntry(v, x, e, "")
			}
		},
		"notify_master": vrrpNotify,
		"notify_backup": vrrpNotify,
		"notify_fault":  vrrpNotify,
		"notify_stop":   vrrpNotify,
		"garp_master_delay": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if d, ok := c.secondsArg(x, 0); ok {
				v.garpBlock(x.Pos).attr("delay", hDur(d.Round(time.Second)), x.Pos, x.Comments...)
			}
		},
		"garp_master_repeat": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if n, ok := c.intArg(x, 0, 1, 100); ok {
				v.garpBlock(x.Pos).attr("repeat", hInt(n), x.Pos, x.Comments...)
			}
		},
		"garp_master_refresh": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if d, ok := c.secondsArg(x, 0); ok {
				d = min(d, 24*time.Hour)
				v.garpBlock(x.Pos).attr("refresh", hDur(d.Round(time.Second)), x.Pos, x.Comments...)
			}
		},
		"lvs_sync_daemon_interface": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if !c.nargs(x, 1, 1) {
				return
			}
			if cs := c.connectionSync(v.b, x); cs != nil {
				cs.attr("instance", hStr(v.name), x.Pos)
			}
		},
		"dont_track_primary": func(c *kaConv, v *vrrpConv, x *kaNode) {
			v.b.comment("keepalived: "+stmt(x)+" — carried over: the interface is not in track_interfaces", x.Pos, x.Comments...)
		},
		"down_timer_adverts": func(c *kaConv, v *vrrpConv, x *kaNode) {
			c.downTimerAdverts(v.b, x, argOr(x, 0) == "3")
		},
		"mcast_dst_ip": func(c *kaConv, v *vrrpConv, x *kaNode) {
			if a := argOr(x, 0); a == "224.0.0.18" || a == "ff02::12" {
				c.drop(v.b, x, false, "it is the RFC group, which lvsd uses")
				return
			}
			c.drop(v.b, x, true, "lvsd sends adverts to the RFC group (or unicast_peers)")
		},
	},
	harmless: instanceHarmless,
	changes:  instanceChanges,
}

func vrrpNoPreempt(c *kaConv, v *vrrpConv, x *kaNode) {
	if v.master {
		c.drop(v.b, x, false, "keepalived ignores it with state MASTER (it says so and clears it), so the instance preempts")
		return
	}
	v.b.attr("preempt", hBool(false), x.Pos, x.Comments...)
}

func vrrpVIPs(c *kaConv, v *vrrpConv, x *kaNode) {
	for i, e := range x.Children {
		c.vip(v, x, e, i == 0)
	}
}

func vrrpSourceIP(c *kaConv, v *vrrpConv, x *kaNode) {
	if !c.nargs(x, 1, 1) {
		return
	}
	if v.b.get("source_ip") != nil {
		c.drop(v.b, x, false, "source_ip is already set by an earlier statement")
		return
	}
	v.b.attr("source_ip", hStr(x.Args[0]), x.Pos, x.Comments...)
}

func vrrpNotify(c *kaConv, v *vrrpConv, x *kaNode) {
	if v.notifyFirst == nil {
		v.notifyFirst = x
	}
	nb := v.b.child("notify", x.Pos)
	if argv, ok := c.command(nb, x); ok {
		nb.attr(strings.TrimPrefix(x.Key, "notify_"), hList(hStrs(argv)), x.Pos, x.Comments...)
	}
}

// firstComments are the comments of a list entry e of x; the first entry
// also takes those of x.
func firstComments(x, e *kaNode, first bool) []string {
	if !first {
		return e.Comments
	}
	return append(append([]string{}, x.Comments...), e.Comments...)
}

// downTimerAdverts converts (vrrp_)down_timer_adverts; three is whether
// it asks for lvsd's 3 adverts.
func (c *kaConv) downTimerAdverts(b *hBlock, x *kaNode, three bool) {
	if three {
		c.drop(b, x, false, "3 adverts is what lvsd uses (RFC 5798)")
		return
	}
	c.drop(b, x, true, "lvsd's master down timer is 3 adverts plus skew (RFC 5798)")
}

// trackEntry converts a track_script entry: NAME [weight N]
// [reverse|noreverse|no_reverse]. group names the sync group it comes
// from, if any.
func (c *kaConv) trackEntry(v *vrrpConv, x, e *kaNode, group string) {
	s := c.scripts[e.Key]
	if s == nil {
		c.drop(v.b, e, false, "no vrrp_script "+strconv.Quote(e.Key)+" is defined; keepalived ignores it too")
		return
	}
	ref := kaScriptRef{instance: v.name, pos: e.Pos}
	for i := 0; i < len(e.Args); i++ {
		switch e.Args[i] {
		case "weight":
			i++
			w, err := strconv.Atoi(argOr(e, i))
			if err != nil || w < -254 || w > 254 {
				c.errf(e.Pos, "track_script %s: weight %q is not within -254..254", e.Key, argOr(e, i))
				return
			}
			ref.override = &w
		case "reverse":
			c.addNote(e, true, "reverse not carried over: lvsd has no reversed weights")
			v.b.comment("keepalived: "+stmt(e)+" — reverse not carried over: lvsd has no reversed weights", e.Pos)
		case "noreverse", "no_reverse":
		default:
			c.addNote(e, false, fmt.Sprintf("%q ignored, as keepalived ignores it", e.Args[i]))
		}
	}
	if g := c.groups[v.name]; g != nil && !g.tracking && group == "" {
		ref.group = g.name
	}
	s.refs = append(s.refs, ref)
	v.list("track_scripts", x.Pos, e.Comments, e.Key)
}

// trackIface converts a track_interface entry: IFNAME [weight N [reverse]].
func (c *kaConv) trackIface(v *vrrpConv, x, e *kaNode) {
	if len(e.Args) >= 2 && e.Args[0] == "weight" && e.Args[1] != "0" {
		c.drop(v.b, e, true, "lvsd has no weighted interface tracking: a tracked interface going down puts the instance in FAULT")
		return
	}
	if len(e.Args) > 2 || (len(e.Args) > 0 && e.Args[0] != "weight") {
		c.drop(v.b, e, true, "lvsd has no reversed interface tracking")
		return
	}
	v.list("track_interfaces", x.Pos, e.Comments, e.Key)
}

// finishInstance checks what an instance needs and completes it: its own
// interface tracked, the lists written, the version placed, and the
// global GARP settings where the instance sets none.
func (c *kaConv) finishInstance(v *vrrpConv, n *kaNode) {
	b := v.b
	if v.notifyFirst != nil {
		nb := b.child("notify", v.notifyFirst.Pos)
		nb.comments = append(nb.comments, "lvsd appends the new state and the instance name to each command;", "keepalived ran notify_master/backup/fault/stop as written")
		c.addNote(v.notifyFirst, false, "carried over; lvsd appends the new state and the instance name to each notify command, keepalived appended nothing")
	}
	if v.iface == "" {
		c.errf(n.Pos, "vrrp_instance %s has no interface; lvsd needs the interface it runs on", v.name)
	}
	if !v.hasVRID {
		c.errf(n.Pos, "vrrp_instance %s has no virtual_router_id", v.name)
	}
	if v.lists["virtual_ips"] == nil || len(v.lists["virtual_ips"].vals) == 0 {
		c.errf(n.Pos, "vrrp_instance %s has no virtual_ipaddress; an lvsd instance holds at least one virtual IP", v.name)
	}
	if v.iface != "" && v.trackPrimary {
		l := v.lists["track_interfaces"]
		if l == nil {
			v.list("track_interfaces", n.Pos, []string{"keepalived puts an instance in FAULT when its own interface goes down"}, v.iface)
		} else if !l.seen[v.iface] {
			l.vals = append([]string{v.iface}, l.vals...)
			l.item.comments = append(l.item.comments, "keepalived puts an instance in FAULT when its own interface goes down")
		}
	}
	for _, attr := range []string{"virtual_ips", "virtual_ips_excluded", "unicast_peers", "track_interfaces", "track_scripts"} {
		if l := v.lists[attr]; l != nil {
			if len(l.vals) == 0 {
				b.remove(attr)
				continue
			}
			l.item.expr = hList(hStrs(l.vals))
		}
	}
	vpos := n.Pos
	if v.versionNode != nil {
		vpos = v.versionNode.Pos
	}
	b.insertAfter(&hItem{kind: hAttr, name: "version", expr: hInt(v.version), src: vpos}, "virtual_router_id", "priority", "advert_interval")

	// Global GARP settings apply where the instance sets none.
	g := c.garp
	if g.delay != nil && (v.garp == nil || v.garp.get("delay") == nil) {
		v.garpBlock(g.delayPos).attr("delay", hDur(*g.delay), g.delayPos)
	}
	if g.repeat != nil && (v.garp == nil || v.garp.get("repeat") == nil) {
		v.garpBlock(g.repeatPos).attr("repeat", hInt(*g.repeat), g.repeatPos)
	}
	if g.refresh != nil && (v.garp == nil || v.garp.get("refresh") == nil) {
		v.garpBlock(g.refreshPos).attr("refresh", hDur(g.refresh.Round(time.Second)), g.refreshPos)
	}
}

// advertInt converts advert_int to what the version can carry.
func (c *kaConv) advertInt(b *hBlock, x *kaNode, d time.Duration, version int) {
	var got time.Duration
	var why string
	if version == 2 {
		got = d.Round(time.Second)
		got = min(max(got, time.Second), 255*time.Second)
		why = "VRRP v2 advertises in whole seconds from 1s to 255s; keepalived rounds it too"
	} else {
		got = d.Round(10 * time.Millisecond)
		got = min(max(got, 10*time.Millisecond), 40950*time.Millisecond)
		why = "VRRP v3 advertises in centiseconds from 10ms to 40.95s"
	}
	if got != d {
		c.adjust(b, x, false, "carried over as "+hDur(got)+": "+why)
	}
	b.attr("advert_interval", hDur(got), x.Pos, x.Comments...)
}

// vip converts one virtual_ipaddress(_excluded) entry:
// <IPADDR>[/<MASK>] [brd <IPADDR>] [dev <STRING>] [scope <SCOPE>] [label <LABEL>] …
func (c *kaConv) vip(v *vrrpConv, x, e *kaNode, first bool) {
	b, iface, v6 := v.b, v.iface, v.v6
	p, err := conf.ParseVIP(e.Key)
	if err != nil {
		c.errf(e.Pos, "%s: %v", x.Key, err)
		return
	}
	attr := "virtual_ips"
	if x.Key == "virtual_ipaddress_excluded" {
		attr = "virtual_ips_excluded"
	}
	var harmless, changes []string
	for i := 0; i < len(e.Args); i++ {
		opt := e.Args[i]
		val := ""
		switch opt {
		case "brd", "broadcast", "dev", "scope", "label", "peer", "preferred_lft", "track_group", "metric":
			i++
			val = argOr(e, i)
		}
		switch opt {
		case "dev":
			if val != iface {
				changes = append(changes, "dev "+val+" (lvsd holds every VIP on the instance's interface "+iface+")")
			}
		case "label":
			harmless = append(harmless, "label "+val+" (lvsd adds VIPs without a label)")
		case "brd", "broadcast":
			harmless = append(harmless, opt+" "+val+" (lvsd lets the kernel derive the broadcast address)")
		case "scope":
			if val != "global" && val != "universe" {
				changes = append(changes, "scope "+val+" (lvsd adds VIPs with global scope)")
			}
		case "peer":
			changes = append(changes, "peer "+val+" (lvsd adds no point-to-point peer)")
		case "use_vmac":
			changes = append(changes, "use_vmac (lvsd uses no VMAC)")
		case "home", "-nodad", "nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track", "preferred_lft", "track_group", "metric":
			harmless = append(harmless, strings.TrimSpace(opt+" "+val)+" (lvsd adds VIPs with the kernel's defaults)")
		default:
			changes = append(changes, opt+" (unknown to the importer)")
		}
	}
	if p.Addr().Is6() != v6 && attr == "virtual_ips" {
		c.drop(b, e, false, "its family differs from the instance's first virtual IP; keepalived ignores such an address too (use virtual_ipaddress_excluded or a second instance)")
		return
	}
	if len(changes) > 0 {
		c.addNote(e, true, "not carried over: "+strings.Join(changes, "; "))
		b.comment("keepalived: "+stmt(e)+" — not carried over: "+strings.Join(changes, "; "), e.Pos)
	}
	if len(harmless) > 0 {
		c.addNote(e, false, "not carried over: "+strings.Join(harmless, "; "))
		b.comment("keepalived: "+stmt(e)+" — not carried over: "+strings.Join(harmless, "; "), e.Pos)
	}
	v.list(attr, x.Pos, firstComments(x, e, first), e.Key)
}

// authentication { auth_type PASS|AH  auth_pass SECRET }
func (c *kaConv) authentication(b *hBlock, x *kaNode, version int) {
	typ, pass := "", ""
	var passNode, typNode *kaNode
	for _, e := range x.Children {
		switch e.Key {
		case "auth_type":
			typ, typNode = strings.ToUpper(argOr(e, 0)), e
		case "auth_pass":
			pass, passNode = argOr(e, 0), e
		default:
			c.drop(b, e, true, "not an authentication keyword the importer knows")
		}
	}
	switch {
	case typ == "AH":
		c.drop(b, typNode, true, "lvsd has no IPsec AH authentication; its adverts carry none, which a peer using AH rejects")
		if passNode != nil {
			c.drop(b, passNode, true, "goes with auth_type AH")
		}
	case typ != "" && typ != "PASS":
		c.errf(typNode.Pos, "auth_type %q is not PASS or AH", typ)
	case passNode == nil:
		if typNode != nil {
			c.drop(b, typNode, false, "no auth_pass is given")
		}
	case version != 2:
		c.drop(b, passNode, false, "VRRP v3 has no authentication; keepalived ignores it with version 3 too")
	default:
		if len(pass) > 8 {
			c.adjust(b, passNode, false, "carried over as its first 8 characters, all that VRRP v2 sends (keepalived cuts it too)")
			pass = pass[:8]
		}
		b.attr("auth_pass", hStr(pass), passNode.Pos, append(append([]string{}, x.Comments...), passNode.Comments...)...)
	}
}
