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

	top      []*hBlock // the output's top-level blocks
	globalAt int       // where global is among them; -1: not yet
}

type kaGARP struct {
	delay, refresh       *time.Duration
	repeat               *int
	delayPos, refreshPos kaPos
	repeatPos            kaPos
}

func newKAConv() *kaConv {
	return &kaConv{
		defVersion: 2,
		scripts:    map[string]*kaScript{},
		instances:  map[string]*kaNode{},
		groups:     map[string]*kaGroup{},
		vsGroups:   map[string]*kaNode{},
		globalAt:   -1,
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
	c.declare(root)
	for _, n := range root.Children {
		c.topLevel(n)
	}
	c.resolveScriptWeights()

	if c.usesScripts && c.scriptUser == "" {
		if c.global == nil {
			c.global = newBlock("global", kaPos{})
		}
		if c.globalAt < 0 {
			c.top = append([]*hBlock{c.global}, c.top...)
			c.globalAt = 0
		}
		c.global.attr("script_user", hStr("root"), kaPos{},
			"keepalived ran scripts as keepalived_script if that user exists, else as root;",
			"lvsd would run them as nobody. Prefer an unprivileged user that can run them.")
		c.notes = append(c.notes, Note{File: root.Pos.File, Line: 1, Statement: "global_defs", Text: "script_user = \"root\" is set, since keepalived ran scripts as root when keepalived_script does not exist; prefer an unprivileged user"})
	}
	if c.csync != nil {
		at := c.globalAt + 1
		c.top = append(c.top[:at], append([]*hBlock{c.csync}, c.top[at:]...)...)
	}
	if len(trailing) > 0 {
		b := newBlock("", kaPos{})
		b.comment(strings.Join(trailing, "\n"), kaPos{})
		c.top = append(c.top, commentOnly(b))
	}
	return c.top
}

// declare reads first what other blocks depend on: globals, scripts,
// instances, groups.
func (c *kaConv) declare(root *kaNode) {
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
}

// topKeywords convert the top-level blocks, in the order of the file.
var topKeywords = map[string]func(c *kaConv, n *kaNode){
	"global_defs": func(c *kaConv, n *kaNode) {
		if c.globalAt < 0 {
			c.globalAt = len(c.top)
			c.global.comments = n.Comments
			c.global.tail = n.Tail
			c.top = append(c.top, c.global)
		}
	},
	"vrrp_script": func(c *kaConv, n *kaNode) {
		if s := c.scripts[argOr(n, 0)]; s != nil && s.node == n {
			c.top = append(c.top, c.vrrpScript(s))
		}
	},
	"vrrp_instance": func(c *kaConv, n *kaNode) {
		if len(n.Args) == 1 && c.instances[n.Args[0]] == n {
			if b := c.instance(n); b != nil {
				c.top = append(c.top, b)
			}
		}
	},
	"vrrp_sync_group": func(c *kaConv, n *kaNode) {
		if b := c.syncGroup(n); b != nil {
			c.top = append(c.top, b)
		}
	},
	"virtual_server": func(c *kaConv, n *kaNode) {
		c.top = append(c.top, c.virtualServer(n)...)
	},
	"virtual_server_group": func(*kaConv, *kaNode) {
		// Expanded where a virtual_server uses it.
	},
}

func (c *kaConv) topLevel(n *kaNode) {
	h, known := topKeywords[n.Key]
	switch {
	case known && !n.Block:
		c.errf(n.Pos, "%s needs a { … } block", n.Key)
	case known:
		h(c, n)
	default:
		why, ok := topLevelUnsupported[n.Key]
		if !ok {
			c.errf(n.Pos, "unknown top-level block %q: keepalived.conf has global_defs, vrrp_script, vrrp_sync_group, vrrp_instance, virtual_server_group and virtual_server", n.Key)
			return
		}
		if n.Key == "SSL" && !sslClientCert(n) {
			why = kaWhy{false, "lvsd's https checks do not verify the server (tls_verify = false), as keepalived's SSL_GET did not"}
		}
		b := newBlock("", n.Pos)
		c.drop(b, n, why.changes, why.why)
		c.top = append(c.top, commentOnly(b))
	}
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
