// Package doctor checks a host for the pitfalls that make an IPVS
// director pair or its real servers fail silently (`lvsd doctor`): as
// the director of a configuration file (IPVS, forwarding for NAT,
// interfaces, rp_filter, VIPs held by something else, keepalived, the
// firewall's verdict on VRRP, VRIDs on the wire) and as a real server
// of VIPs (where the VIP is held, arp_ignore/arp_announce, rp_filter
// on tunnels). Each finding is one line: what was found and, when it is
// wrong, the command that fixes it.
//
// It reads the host through Host (Kernel on Linux; a fake in the tests,
// so that every finding is tested without root) and the running daemon
// through DaemonStates (FromDaemon over the control socket; a fake in the
// tests). The firewall evaluators are in the firewall subpackage. It
// imports conf, vrrp, ipvs and the control client; never cmd.
package doctor

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// Severity says whether a finding is fine, suspicious or wrong.
type Severity uint8

const (
	OK Severity = iota
	Warning
	Problem
)

func (s Severity) String() string {
	return [...]string{"ok", "warning", "PROBLEM"}[s]
}

// Finding is one line of the report: what was found and, when it is
// wrong, the command that fixes it.
type Finding struct {
	Severity Severity
	What     string
	Fix      string
}

// String is the line as lvsd doctor prints it:
// "ok|warning|PROBLEM: what — fix: command".
func (f Finding) String() string {
	s := f.Severity.String() + ": " + f.What
	if f.Fix != "" {
		s += " — fix: " + f.Fix
	}
	return s
}

// Options say which checks to run.
type Options struct {
	// Config is the configuration file to check this host as the
	// director of; "" runs no director checks.
	Config string
	// Listen is how long to listen for VRRP adverts of other routers
	// using the configuration's VRIDs; 0 skips it.
	Listen time.Duration
	// RealServer are the VIPs to check this host as a real server of.
	RealServer []netip.Addr
}

// Result is every finding of a run, in the order they were printed.
type Result struct {
	Findings []Finding
}

// Count is how many findings have sev.
func (r Result) Count(sev Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

// Run runs the checks opts asks for on host, writes each finding to out
// as it is made and a summary line last. daemon tells whether the VIPs
// on this host are the running lvsd's (it must not be nil).
func Run(out io.Writer, host Host, daemon DaemonStates, opts Options) Result {
	d := &doctor{host: host, daemon: daemon, out: out}
	if file := opts.Config; file != "" {
		cfg, diags := conf.Load(file)
		if diags.HasErrors() {
			n := len(diags.Errs())
			d.problem("lvsd check -c "+file, "%s is invalid (%d %s): the director checks need a valid file", file, n, plural(n, "problem", "problems"))
		} else {
			d.ok("%s is valid: %d %s, %d %s", file,
				len(cfg.Instances), plural(len(cfg.Instances), "VRRP instance", "VRRP instances"),
				len(cfg.VirtualServers), plural(len(cfg.VirtualServers), "virtual server", "virtual servers"))
			d.director(cfg, opts.Listen)
		}
	}
	if len(opts.RealServer) > 0 {
		d.realServer(opts.RealServer)
	}

	r := Result{Findings: d.findings}
	p, w := r.Count(Problem), r.Count(Warning)
	summary := fmt.Sprintf("lvsd doctor: %d %s, %d %s", p, plural(p, "problem", "problems"), w, plural(w, "warning", "warnings"))
	if d.sysctlFx {
		summary += " (sysctl -w lasts until reboot: keep the settings in /etc/sysctl.d/90-lvsd.conf)"
	}
	fmt.Fprintln(out, summary)
	return r
}

// doctor runs the checks and writes each finding as it is made.
type doctor struct {
	host     Host
	daemon   DaemonStates
	out      io.Writer
	findings []Finding
	sysctlFx bool // a fix is a sysctl -w: say how to keep it

	links    []Link
	linksErr error
	loaded   bool
}

func (d *doctor) add(sev Severity, fix, format string, args ...any) {
	f := Finding{Severity: sev, What: fmt.Sprintf(format, args...), Fix: fix}
	if sev != OK && strings.HasPrefix(fix, "sysctl -w") {
		d.sysctlFx = true
	}
	d.findings = append(d.findings, f)
	if d.out != nil {
		fmt.Fprintln(d.out, f)
	}
}

func (d *doctor) ok(format string, args ...any) { d.add(OK, "", format, args...) }
func (d *doctor) warn(fix, format string, args ...any) {
	d.add(Warning, fix, format, args...)
}
func (d *doctor) problem(fix, format string, args ...any) {
	d.add(Problem, fix, format, args...)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func joinAddrs(ips []netip.Addr) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ", ")
}

func prefixAddrs(ps []netip.Prefix) []netip.Addr {
	out := make([]netip.Addr, len(ps))
	for i, p := range ps {
		out[i] = p.Addr().Unmap()
	}
	return out
}
