package keepalived

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// kaConv converts the statement tree; it collects every problem.
type kaConv struct {
	notes []Note
	errs  []error

	// from global_defs
	global      *hBlock
	csync       *hBlock
	defVersion  int
	garp        kaGARP
	scriptUser  string // "" when not set
	usesScripts bool

	scripts   map[string]*kaScript
	instances map[string]*kaNode
	groups    map[string]*kaGroup // by member instance
	vsGroups  map[string]*kaNode
	vsNames   map[string]int
}

type kaGARP struct {
	delay, refresh       *time.Duration
	repeat               *int
	delayPos, refreshPos kaPos
	repeatPos            kaPos
}

type kaScript struct {
	node     *kaNode
	block    *hBlock
	weight   int
	reverse  bool
	weightAt kaPos
	refs     []kaScriptRef
}

type kaScriptRef struct {
	instance string
	override *int   // the instance's own weight for it
	group    string // a sync group that zeroes the weight
	pos      kaPos
}

// weight is the weight the instance sees, and why when it is not the
// script's own.
func (r kaScriptRef) weight(s *kaScript) (int, string) {
	switch {
	case r.group != "":
		return 0, " (keepalived ignores track weights inside vrrp_sync_group " + r.group + ": a failure puts the group in FAULT)"
	case r.override != nil:
		return *r.override, " (set by vrrp_instance " + r.instance + ")"
	}
	return s.weight, ""
}

type kaGroup struct {
	name     string
	tracking bool // global_tracking or sync_group_tracking_weight: weights kept
	tracks   []*kaNode
}

func newKAConv() *kaConv {
	return &kaConv{
		defVersion: 2,
		scripts:    map[string]*kaScript{},
		instances:  map[string]*kaNode{},
		groups:     map[string]*kaGroup{},
		vsGroups:   map[string]*kaNode{},
	}
}

func (c *kaConv) errf(pos kaPos, format string, args ...any) {
	c.errs = append(c.errs, &kaError{pos, fmt.Sprintf(format, args...)})
}

func (c *kaConv) addNote(n *kaNode, changes bool, text string) {
	c.notes = append(c.notes, Note{File: n.Pos.File, Line: n.Pos.Line, Statement: stmt(n), Text: text, ChangesBehaviour: changes})
}

func stmt(n *kaNode) string {
	s := n.words()
	if n.Block {
		s += " { … }"
	}
	return s
}

// drop records a statement that is not carried over: a comment where it
// would have gone, and a note.
func (c *kaConv) drop(b *hBlock, n *kaNode, changes bool, why string) {
	c.addNote(n, changes, "not carried over: "+why)
	b.comment("keepalived: "+stmt(n)+" — not carried over: "+why, n.Pos, n.Comments...)
}

// adjust records a statement carried over with a change; the statement's
// own comments stay with what it became.
func (c *kaConv) adjust(b *hBlock, n *kaNode, changes bool, what string) {
	c.addNote(n, changes, what)
	b.comment("keepalived: "+stmt(n)+" — "+what, n.Pos)
}

func (c *kaConv) sortedNotes() []Note {
	sort.SliceStable(c.notes, func(i, j int) bool {
		a, b := c.notes[i], c.notes[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return c.notes
}

// argument readers

func (c *kaConv) nargs(n *kaNode, lo, hi int) bool {
	if len(n.Args) < lo || (hi >= 0 && len(n.Args) > hi) {
		switch {
		case lo == hi && lo == 1:
			c.errf(n.Pos, "%s takes one value", n.Key)
		case lo == hi:
			c.errf(n.Pos, "%s takes %d values", n.Key, lo)
		case hi < 0:
			c.errf(n.Pos, "%s takes at least %d values", n.Key, lo)
		default:
			c.errf(n.Pos, "%s takes %d to %d values", n.Key, lo, hi)
		}
		return false
	}
	return true
}

func (c *kaConv) intArg(n *kaNode, i, lo, hi int) (int, bool) {
	if i >= len(n.Args) {
		c.errf(n.Pos, "%s needs a value", n.Key)
		return 0, false
	}
	v, err := strconv.Atoi(n.Args[i])
	if err != nil || v < lo || v > hi {
		c.errf(n.Pos, "%s: %q is not a whole number within %d..%d", n.Key, n.Args[i], lo, hi)
		return 0, false
	}
	return v, true
}

// secondsArg reads a keepalived <TIMER>: seconds, fractions allowed.
func (c *kaConv) secondsArg(n *kaNode, i int) (time.Duration, bool) {
	if i >= len(n.Args) {
		c.errf(n.Pos, "%s needs a value in seconds", n.Key)
		return 0, false
	}
	f, err := strconv.ParseFloat(n.Args[i], 64)
	if err != nil || f < 0 || f > 1e9 || math.IsNaN(f) {
		c.errf(n.Pos, "%s: %q is not a number of seconds", n.Key, n.Args[i])
		return 0, false
	}
	return time.Duration(math.Round(f*1e6)) * time.Microsecond, true
}

func kaBool(args []string) (bool, bool) {
	if len(args) == 0 {
		return true, true
	}
	switch strings.ToLower(args[0]) {
	case "on", "true", "yes":
		return true, true
	case "off", "false", "no":
		return false, true
	}
	return false, false
}

// command reads a script statement: the script string (split into argv
// as keepalived splits it) and an optional user and group.
func (c *kaConv) command(b *hBlock, n *kaNode) ([]string, bool) {
	if len(n.Args) == 0 {
		c.errf(n.Pos, "%s needs a script", n.Key)
		return nil, false
	}
	argv, err := splitCommand(n.Args[0])
	if err != nil || len(argv) == 0 {
		c.errf(n.Pos, "%s: %v", n.Key, orEmpty(err))
		return nil, false
	}
	c.usesScripts = true
	if shellish(argv) {
		c.adjust(b, n, false, fmt.Sprintf("run as the argv %s without a shell, as keepalived 2.x does; its shell syntax is passed as plain words — wrap it in [\"/bin/sh\", \"-c\", …] if a shell was meant", hList(hStrs(argv))))
	}
	if len(n.Args) > 1 {
		c.scriptAs(b, n, n.Args[1])
	}
	return argv, true
}

func orEmpty(err error) error {
	if err == nil {
		return errors.New("the script is empty")
	}
	return err
}

// scriptAs notes a per-script user: lvsd runs every script as one user.
func (c *kaConv) scriptAs(b *hBlock, n *kaNode, user string) {
	eff := c.scriptUser
	if eff == "" {
		eff = "root"
	}
	if user == eff {
		c.addNote(n, false, fmt.Sprintf("user %s not carried over: lvsd runs every script as global.script_user, which is %s too", user, eff))
		return
	}
	c.addNote(n, true, fmt.Sprintf("user %s not carried over: lvsd runs every script as global.script_user (%s)", user, eff))
	b.comment(fmt.Sprintf("keepalived: %s — runs as %s, not %s: lvsd runs every script as global.script_user", stmt(n), eff, user), n.Pos)
}

// convert turns the whole file into lvsd's top-level blocks.
func (c *kaConv) convert(root *kaNode, trailing []string) []*hBlock {
	// First what other blocks depend on: globals, scripts, groups.
	for _, n := range root.Children {
		switch n.Key {
		case "global_defs":
			if c.global == nil {
				c.global = newBlock("global", n.Pos)
			}
			c.globalDefs(n)
		case "vrrp_script":
			if c.nargs(n, 1, 1) {
				if _, dup := c.scripts[n.Args[0]]; dup {
					c.errf(n.Pos, "vrrp_script %q is defined twice", n.Args[0])
					continue
				}
				c.scripts[n.Args[0]] = &kaScript{node: n}
			}
		case "vrrp_instance":
			if c.nargs(n, 1, 1) {
				c.instances[n.Args[0]] = n
			}
		case "vrrp_sync_group":
			c.preGroup(n)
		case "virtual_server_group":
			if c.nargs(n, 1, 1) {
				c.vsGroups[n.Args[0]] = n
			}
		}
	}

	var top []*hBlock
	globalAt := -1
	for _, n := range root.Children {
		if !n.Block && topLevelNeedsBlock[n.Key] {
			c.errf(n.Pos, "%s needs a { … } block", n.Key)
			continue
		}
		switch n.Key {
		case "global_defs":
			if globalAt < 0 {
				globalAt = len(top)
				c.global.comments = n.Comments
				c.global.tail = n.Tail
				top = append(top, c.global)
			}
		case "vrrp_script":
			if s := c.scripts[argOr(n, 0)]; s != nil && s.node == n {
				top = append(top, c.vrrpScript(s))
			}
		case "vrrp_instance":
			if len(n.Args) == 1 && c.instances[n.Args[0]] == n {
				if b := c.instance(n); b != nil {
					top = append(top, b)
				}
			}
		case "vrrp_sync_group":
			if b := c.syncGroup(n); b != nil {
				top = append(top, b)
			}
		case "virtual_server":
			top = append(top, c.virtualServer(n)...)
		case "virtual_server_group":
			// Expanded where a virtual_server uses it.
		default:
			if why, ok := topLevelUnsupported[n.Key]; ok {
				if n.Key == "SSL" && !sslClientCert(n) {
					why = kaWhy{false, "lvsd's https checks do not verify the server (tls_verify = false), as keepalived's SSL_GET did not"}
				}
				b := newBlock("", n.Pos)
				c.drop(b, n, why.changes, why.why)
				top = append(top, commentOnly(b))
				continue
			}
			c.errf(n.Pos, "unknown top-level block %q: keepalived.conf has global_defs, vrrp_script, vrrp_sync_group, vrrp_instance, virtual_server_group and virtual_server", n.Key)
		}
	}
	c.resolveScriptWeights()

	if c.usesScripts && c.scriptUser == "" {
		if c.global == nil {
			c.global = newBlock("global", kaPos{})
		}
		if globalAt < 0 {
			top = append([]*hBlock{c.global}, top...)
			globalAt = 0
		}
		c.global.attr("script_user", hStr("root"), kaPos{},
			"keepalived ran scripts as keepalived_script if that user exists, else as root;",
			"lvsd would run them as nobody. Prefer an unprivileged user that can run them.")
		c.notes = append(c.notes, Note{File: root.Pos.File, Line: 1, Statement: "global_defs", Text: "script_user = \"root\" is set, since keepalived ran scripts as root when keepalived_script does not exist; prefer an unprivileged user"})
	}
	if c.csync != nil {
		at := globalAt + 1
		top = append(top[:at], append([]*hBlock{c.csync}, top[at:]...)...)
	}
	if len(trailing) > 0 {
		b := newBlock("", kaPos{})
		b.comment(strings.Join(trailing, "\n"), kaPos{})
		top = append(top, commentOnly(b))
	}
	return top
}

// sslClientCert reports whether an SSL block gives a client certificate,
// which keepalived presented to the real servers.
func sslClientCert(n *kaNode) bool {
	for _, x := range n.Children {
		if x.Key == "certificate" || x.Key == "key" || x.Key == "password" {
			return true
		}
	}
	return false
}

func argOr(n *kaNode, i int) string {
	if i < len(n.Args) {
		return n.Args[i]
	}
	return ""
}

// commentOnly renders a block with no type as its comment lines.
func commentOnly(b *hBlock) *hBlock {
	b.typ = ""
	return b
}

var topLevelNeedsBlock = map[string]bool{
	"global_defs": true, "vrrp_script": true, "vrrp_instance": true, "vrrp_sync_group": true,
	"virtual_server": true, "virtual_server_group": true,
}

type kaWhy struct {
	changes bool
	why     string
}

var topLevelUnsupported = map[string]kaWhy{
	"static_ipaddress":      {true, "lvsd configures no static addresses; add them with the system's network configuration"},
	"static_routes":         {true, "lvsd configures no static routes; add them with the system's network configuration"},
	"static_rules":          {true, "lvsd configures no static rules; add them with the system's network configuration"},
	"static_track_group":    {false, "lvsd has no static track groups"},
	"linkbeat_interfaces":   {false, "lvsd watches links through netlink"},
	"linkbeat_use_polling":  {false, "lvsd watches links through netlink"},
	"garp_group":            {false, "lvsd has no per-interface GARP pacing"},
	"vrrp_track_process":    {false, "lvsd has no process tracking; instances that track it are noted"},
	"track_file":            {false, "lvsd has no file tracking; instances that track it are noted"},
	"vrrp_track_file":       {false, "lvsd has no file tracking; instances that track it are noted"},
	"bfd_instance":          {false, "lvsd has no BFD; instances that track it are noted"},
	"SSL":                   {true, "lvsd's https checks present no client certificate"},
	"net_namespace":         {true, "lvsd runs in the namespace it is started in"},
	"net_namespace_ipvs":    {true, "lvsd programs IPVS in the namespace it is started in"},
	"namespace_with_ipsets": {false, "lvsd uses no ipsets"},
	"instance":              {false, "lvsd names its files through control_socket"},
	"use_pid_dir":           {false, "lvsd writes no pid file"},
	"child_wait_time":       {false, "lvsd has no child processes to wait for"},
}

// vrrp_script

func (c *kaConv) vrrpScript(s *kaScript) *hBlock {
	n := s.node
	b := newBlock("track_script", n.Pos, n.Args[0])
	b.comments, b.tail = n.Comments, n.Tail
	s.block = b
	interval := time.Second
	var timeout *kaNode
	hasCommand := false
	for _, x := range n.Children {
		switch x.Key {
		case "script":
			argv, ok := c.command(b, &kaNode{Key: x.Key, Args: x.Args[:min(1, len(x.Args))], Pos: x.Pos})
			if !ok {
				continue
			}
			hasCommand = true
			b.attr("command", hList(hStrs(argv)), x.Pos, x.Comments...)
			if len(x.Args) > 1 {
				c.adjust(b, x, false, fmt.Sprintf("the unquoted words after %q are left out, as keepalived leaves them out: quote the whole command line", x.Args[0]))
			}
		case "interval":
			if d, ok := c.secondsArg(x, 0); ok {
				interval = max(d, 10*time.Millisecond)
				b.attr("interval", hDur(interval), x.Pos, x.Comments...)
			}
		case "timeout":
			timeout = x
		case "weight":
			if v, ok := c.intArg(x, 0, -254, 254); ok {
				s.weight, s.weightAt = v, x.Pos
				if len(x.Args) > 1 && x.Args[1] == "reverse" {
					s.reverse = true
					c.drop(b, x, true, "lvsd has no reversed weights: the weight applies while the script fails (negative) or succeeds (positive)")
					continue
				}
				b.attr("weight", hInt(v), x.Pos, x.Comments...)
			}
		case "rise", "fall":
			if v, ok := c.intArg(x, 0, 1, 100); ok {
				b.attr(x.Key, hInt(v), x.Pos, x.Comments...)
			}
		case "user":
			if c.nargs(x, 1, 2) {
				c.usesScripts = true
				c.scriptAs(b, x, x.Args[0])
			}
		case "init_fail":
			c.drop(b, x, false, "lvsd counts a track script as failed until its first success only when rise says so")
		default:
			c.drop(b, x, true, "not a vrrp_script keyword the importer knows")
		}
	}
	if !hasCommand {
		c.errf(n.Pos, "vrrp_script %s has no script", n.Args[0])
	}
	if timeout != nil {
		if d, ok := c.secondsArg(timeout, 0); ok {
			if d > interval {
				c.adjust(b, timeout, false, fmt.Sprintf("shortened to the interval (%s): lvsd ends a run before the next one starts", hDur(interval)))
				d = interval
			}
			b.attr("timeout", hDur(max(d, time.Millisecond)), timeout.Pos, timeout.Comments...)
		}
	}
	return b
}

// resolveScriptWeights gives each track_script the weight its instances
// see: the instance's override, or zero inside a sync group (keepalived
// ignores track weights of grouped instances). lvsd has one weight per
// script, so differing weights are a change of behaviour.
func (c *kaConv) resolveScriptWeights() {
	names := make([]string, 0, len(c.scripts))
	for name := range c.scripts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := c.scripts[name]
		if s.block == nil || len(s.refs) == 0 || s.reverse {
			continue
		}
		w, why := s.refs[0].weight(s)
		same := true
		for _, r := range s.refs[1:] {
			if rw, _ := r.weight(s); rw != w {
				same = false
			}
		}
		if !same {
			for _, r := range s.refs {
				rw, rwhy := r.weight(s)
				c.notes = append(c.notes, Note{File: r.pos.File, Line: r.pos.Line, Statement: "track_script " + name,
					Text:             fmt.Sprintf("vrrp_instance %s sees weight %d%s, but lvsd has one weight per track_script (%d is kept)", r.instance, rw, rwhy, s.weight),
					ChangesBehaviour: true})
			}
			s.block.comment(fmt.Sprintf("keepalived: the instances tracking %s see different weights; lvsd has one weight per script", name), s.node.Pos)
			continue
		}
		if w == s.weight {
			continue
		}
		text := fmt.Sprintf("keepalived: weight %d — carried over as %d, the weight its instances see%s", s.weight, w, why)
		switch it := s.block.get("weight"); {
		case it != nil && w == 0:
			it.kind, it.text = hComment, text
		case it != nil:
			it.expr = hInt(w)
			it.comments = append(it.comments, text)
		default:
			s.block.attr("weight", hInt(w), s.node.Pos, text)
		}
		c.notes = append(c.notes, Note{File: s.node.Pos.File, Line: s.node.Pos.Line, Statement: "vrrp_script " + name,
			Text: fmt.Sprintf("carried over with weight %d, the weight its instances see%s", w, why)})
	}
}

// vrrp_sync_group

func (c *kaConv) preGroup(n *kaNode) {
	if !c.nargs(n, 1, 1) {
		return
	}
	g := &kaGroup{name: n.Args[0]}
	for _, x := range n.Children {
		switch x.Key {
		case "group":
			for _, m := range x.Children {
				for _, name := range append([]string{m.Key}, m.Args...) {
					c.groups[name] = g
				}
			}
		case "global_tracking", "sync_group_tracking_weight":
			g.tracking = true
		case "track_interface", "track_script":
			g.tracks = append(g.tracks, x)
		}
	}
}

func (c *kaConv) syncGroup(n *kaNode) *hBlock {
	if len(n.Args) != 1 {
		return nil
	}
	b := newBlock("sync_group", n.Pos, n.Args[0])
	b.comments, b.tail = n.Comments, n.Tail
	var members []string
	for _, x := range n.Children {
		switch x.Key {
		case "group":
			for _, m := range x.Children {
				for _, name := range append([]string{m.Key}, m.Args...) {
					if c.instances[name] == nil {
						c.errf(m.Pos, "vrrp_sync_group %s: no vrrp_instance %q", n.Args[0], name)
						continue
					}
					members = append(members, name)
				}
			}
			b.attr("instances", hList(hStrs(members)), x.Pos, x.Comments...)
		case "track_interface", "track_script":
			b.comment("keepalived: "+stmt(x)+" — carried over into each member vrrp instance", x.Pos, x.Comments...)
		case "global_tracking", "sync_group_tracking_weight":
			b.comment("keepalived: "+stmt(x)+" — carried over: the members keep their track_script weights", x.Pos, x.Comments...)
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify", "notify_deleted":
			c.drop(b, x, true, "lvsd runs notify scripts per instance, not per group; put the script in the notify block of one member")
		case "smtp_alert", "notify_priority_changes":
			c.drop(b, x, false, "lvsd sends no mail and has no notify FIFO")
		case "track_file", "track_process", "track_bfd":
			c.drop(b, x, true, "lvsd tracks only interfaces and scripts")
		default:
			c.drop(b, x, true, "not a vrrp_sync_group keyword the importer knows")
		}
	}
	if len(members) == 0 {
		c.errf(n.Pos, "vrrp_sync_group %s has no group { … } of instances", n.Args[0])
		return nil
	}
	return b
}

// helpers on addresses

// kaAddr parses an address as keepalived writes it (no brackets).
func kaAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	return a, err == nil && a.Zone() == ""
}

// hostPort writes an lvsd "IP:PORT" (or a bare IP for port 0).
func hostPort(a netip.Addr, port int) string {
	if port == 0 {
		return a.String()
	}
	return netip.AddrPortFrom(a, uint16(port)).String()
}
