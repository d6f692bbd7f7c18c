package keepalived

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

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

// kaCheck is a checker being converted.
type kaCheck struct {
	b    *hBlock
	x    *kaNode
	kind string // lvsd's: tcp, http, script, dns
	port int    // 0: the real server's
	own  kaCheckDefs

	sourceIP, dnsName, dnsType string
	hasDNSName                 bool
	command                    []string
	miscTimeout                *time.Duration
	url                        *kaNode
	urls                       int
}

// checker converts TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK or DNS_CHECK.
func (c *kaConv) checker(x *kaNode, defs kaCheckDefs, port int) *hBlock {
	k := &kaCheck{b: newBlock("check", x.Pos, checkKinds[x.Key]), x: x, kind: checkKinds[x.Key], port: port}
	k.b.comments, k.b.tail = x.Comments, x.Tail
	checkKeywords.convert(c, k.b, k, x)
	defs = defs.with(k.own)
	c.checkTiming(k, defs)
	switch x.Key {
	case "HTTP_GET", "SSL_GET":
		c.httpCheck(k, defs)
	case "MISC_CHECK":
		if k.command == nil {
			c.errf(x.Pos, "MISC_CHECK has no misc_path")
			break
		}
		k.b.attr("command", hList(hStrs(k.command)), x.Pos)
	case "DNS_CHECK":
		c.dnsCheck(k)
	}
	return k.b
}

// checkKeywords converts the statements of a checker block.
var checkKeywords = keywords[*kaCheck]{
	handle: map[string]func(*kaConv, *kaCheck, *kaNode){
		"connect_port": func(c *kaConv, k *kaCheck, s *kaNode) {
			if v, ok := c.intArg(s, 0, 1, 65535); ok {
				k.port = v
			}
		},
		"bindto": func(c *kaConv, k *kaCheck, s *kaNode) {
			if c.nargs(s, 1, 1) {
				k.sourceIP = s.Args[0]
			}
		},
		"url": func(c *kaConv, k *kaCheck, s *kaNode) {
			k.urls++
			if k.urls > 1 {
				c.drop(k.b, s, true, "lvsd checks one URL per server; keepalived needed every url to pass, lvsd checks only the first")
				return
			}
			k.url = s
		},
		"type": func(c *kaConv, k *kaCheck, s *kaNode) { k.dnsType = strings.ToUpper(argOr(s, 0)) },
		"name": func(c *kaConv, k *kaCheck, s *kaNode) { k.dnsName, k.hasDNSName = argOr(s, 0), true },
		"misc_path": func(c *kaConv, k *kaCheck, s *kaNode) {
			if argv, ok := c.command(k.b, s); ok {
				k.command = argv
			}
		},
		"misc_timeout": func(c *kaConv, k *kaCheck, s *kaNode) {
			if v, ok := c.secondsArg(s, 0); ok {
				k.miscTimeout = &v
			}
		},
		"user": func(c *kaConv, k *kaCheck, s *kaNode) {
			if c.nargs(s, 1, 2) {
				c.scriptAs(k.b, s, s.Args[0])
			}
		},
	},
	shared: func(c *kaConv, k *kaCheck, s *kaNode) bool { return c.defKeyword(k.b, s, &k.own) },
	harmless: map[string]string{
		"bind_port":        "lvsd lets the kernel pick the source port",
		"bind_if":          "lvsd lets routing pick the interface",
		"log_all_failures": "lvsd logs every health transition",
		"http_protocol":    "lvsd speaks HTTP/1.1 and closes the connection",
		"fast_recovery":    "lvsd checks one URL, so there is nothing to speed up",
		"enable_sni":       "lvsd's Go TLS client sends SNI when host is set",
	},
	changes: map[string]string{
		"connect_ip":   "lvsd checks the real server's own address",
		"fwmark":       "lvsd does not mark its check packets",
		"misc_dynamic": "lvsd does not set weights from a script's exit code; exit 0 is up, anything else down",
	},
}

// checkTiming writes interval, timeout, rise and fall as keepalived
// would run the check (retry failures before a server goes down), within
// what lvsd accepts, and the port and source address.
func (c *kaConv) checkTiming(k *kaCheck, defs kaCheckDefs) {
	b, x := k.b, k.x
	retry := 1
	switch x.Key {
	case "DNS_CHECK":
		retry = 3
	case "MISC_CHECK":
		retry = 0
	}
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
	if k.kind == "script" {
		timeout, explicit = interval, k.miscTimeout != nil
		if k.miscTimeout != nil {
			timeout = *k.miscTimeout
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
	if k.port != 0 && k.kind != "script" {
		b.attr("port", hInt(k.port), x.Pos)
	}
	if k.sourceIP != "" {
		b.attr("source_ip", hStr(k.sourceIP), x.Pos)
	}
}

// httpCheck writes what HTTP_GET and SSL_GET ask of the answer.
func (c *kaConv) httpCheck(k *kaCheck, defs kaCheckDefs) {
	b, x := k.b, k.x
	host := ""
	if defs.virtualhost != nil {
		host = *defs.virtualhost
	}
	if k.url == nil {
		c.errf(x.Pos, "%s has no url { path … }", x.Key)
		return
	}
	c.url(b, k.url, &host)
	if host != "" {
		b.attr("host", hStr(host), k.url.Pos)
	}
	if x.Key == "SSL_GET" {
		b.attr("tls", hBool(true), x.Pos)
		b.attr("tls_verify", hBool(false), x.Pos, "keepalived's SSL_GET does not verify the server's certificate")
	}
}

// dnsCheck writes the question of a DNS_CHECK.
func (c *kaConv) dnsCheck(k *kaCheck) {
	b, x := k.b, k.x
	dnsType, dnsName := k.dnsType, k.dnsName
	if dnsType == "" {
		dnsType = "SOA"
	}
	switch dnsType {
	case "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA":
	default:
		c.errf(x.Pos, "DNS_CHECK type %q is not A, NS, CNAME, SOA, MX, TXT or AAAA", dnsType)
	}
	if !k.hasDNSName || strings.Trim(dnsName, ".") == "" {
		c.addNote(x, true, "lvsd's dns check asks for a domain name, not the root (.), keepalived's default; name = \"localhost\" stands in: set a zone the server answers for")
		b.comment("keepalived: DNS_CHECK asked for \".\" — not carried over: lvsd needs a domain name; \"localhost\" stands in", x.Pos)
		dnsName = "localhost"
	}
	b.attr("name", hStr(dnsName), x.Pos)
	b.attr("type", hStr(dnsType), x.Pos)
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
