//go:build lab

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// The doctor tests run the real `lvsd doctor` in lab hosts set up right
// and wrong, and apply the fixes it prints, as pasted by an operator.

// doctorRun is one run of lvsd doctor: its exit code and output lines.
type doctorRun struct {
	code int
	out  string
}

func runDoctor(t *testing.T, h *lab.Host, args ...string) doctorRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := h.Command(ctx, lvsdBin, append([]string{"doctor"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := h.Run(cmd)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("lvsd doctor on %s: %v", h.Name(), err)
	}
	if strings.Contains(out.String(), "not implemented in this build") {
		t.Fatalf("lvsd doctor is not registered: add cmdDoctor to the commands of cmd/lvsd/main.go")
	}
	t.Logf("lvsd doctor %s on %s: exit %d\n%s", strings.Join(args, " "), h.Name(), code, out.String())
	return doctorRun{code, out.String()}
}

// line returns the first line of sev ("ok", "PROBLEM", "warning") that
// contains every part.
func (r doctorRun) line(sev string, parts ...string) (string, bool) {
	for _, l := range strings.Split(r.out, "\n") {
		if !strings.HasPrefix(l, sev+": ") {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return l, true
		}
	}
	return "", false
}

func (r doctorRun) want(t *testing.T, sev string, parts ...string) string {
	t.Helper()
	l, ok := r.line(sev, parts...)
	if !ok {
		t.Errorf("no %s line with %q", sev, parts)
	}
	return l
}

func (r doctorRun) wantNo(t *testing.T, sev string, parts ...string) {
	t.Helper()
	if l, ok := r.line(sev, parts...); ok {
		t.Errorf("unexpected: %s", l)
	}
}

func (r doctorRun) wantExit(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d", r.code, code)
	}
}

var doctorFixRE = regexp.MustCompile(` — fix: (.+)$`)

// applyFix runs the fix of a finding line in h with sh, as an operator
// pasting it would.
func doctorApplyFix(t *testing.T, h *lab.Host, line string) {
	t.Helper()
	m := doctorFixRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no fix in %q", line)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := h.Command(ctx, "sh", "-c", m[1])
	cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	if out, err := doctorOutput(h, cmd); err != nil {
		t.Fatalf("fix %q on %s: %v\n%s", m[1], h.Name(), err, out)
	}
}

func doctorOutput(h *lab.Host, cmd *exec.Cmd) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := h.Run(cmd)
	return out.Bytes(), err
}

// doctorConfig writes a configuration whose control socket is the
// test's own, so that no lvsd of the machine answers.
func doctorConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "lvsd.hcl")
	cfg := fmt.Sprintf("global {\n  control_socket = %q\n}\n%s", filepath.Join(dir, "lvsd.sock"), body)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func doctorAddAddr(t *testing.T, h *lab.Host, ifname string, p netip.Prefix) {
	t.Helper()
	if err := h.AddAddr(ifname, p); err != nil {
		t.Fatal(err)
	}
}

func doctorSysctl(t *testing.T, h *lab.Host, kv ...string) {
	t.Helper()
	if err := h.Sysctls(kv...); err != nil {
		t.Fatal(err)
	}
}

// hasIPVS reports whether this kernel has IPVS loaded (the lab hosts
// share the kernel).
func doctorHasIPVS() bool {
	_, err := os.Stat("/proc/net/ip_vs")
	return err == nil
}

const doctorNATConfig = `
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
}

virtual_server "web" {
  address    = "192.0.2.100:80"
  forwarding = "nat"
  real_server "198.51.100.21:8080" {}
}
`

// TestDoctorNATDirector: ip_forward off is the NAT director's problem,
// and the printed fix removes it; IPVS is reported as this kernel has it.
func TestDoctorNATDirector(t *testing.T) {
	l := lab.New(t)
	dir := l.Host("dir")
	dir.Connect(l.Network("lan"), dirAIP)
	dir.Connect(l.Network("inside"), netip.MustParsePrefix("198.51.100.11/24"))
	cfg := doctorConfig(t, doctorNATConfig)

	doctorSysctl(t, dir, "net.ipv4.ip_forward", "0")
	r := runDoctor(t, dir, "-c", cfg)
	r.wantExit(t, 1)
	line := r.want(t, "PROBLEM", "net.ipv4.ip_forward is 0 but web uses NAT", "fix: sysctl -w net.ipv4.ip_forward=1")
	r.want(t, "ok", "interface eth0 of VI_1 is up with carrier; adverts go from 192.0.2.11")
	r.want(t, "ok", "VIPs of VI_1 (192.0.2.100) are not on this host outside lvsd")

	doctorApplyFix(t, dir, line)
	r = runDoctor(t, dir, "-c", cfg)
	r.wantNo(t, "PROBLEM", "ip_forward")
	r.want(t, "ok", "net.ipv4.ip_forward is 1 (NAT in web)")
	if doctorHasIPVS() {
		r.wantExit(t, 0)
	} else {
		r.wantExit(t, 1) // the IPVS problem alone
	}
}

// TestDoctorDirectorIPVS: a director with virtual servers on this host
// is told plainly whether the kernel has IPVS.
func TestDoctorDirectorIPVS(t *testing.T) {
	l := lab.New(t)
	dir := l.Host("dir")
	dir.Connect(l.Network("lan"), dirAIP)
	doctorSysctl(t, dir, "net.ipv4.ip_forward", "1")
	r := runDoctor(t, dir, "-c", doctorConfig(t, doctorNATConfig))
	if doctorHasIPVS() {
		r.want(t, "ok", "IPVS is loaded in this kernel (needed for 1 virtual server)")
		r.wantExit(t, 0)
		return
	}
	r.want(t, "PROBLEM", "has no IPVS: /proc/net/ip_vs is absent", "lvsd run refuses to start with 1 virtual server", "fix: ")
	r.wantExit(t, 1)
	if strings.Count(r.out, "PROBLEM: ") != 1 {
		t.Errorf("want the IPVS problem alone")
	}
}

const doctorVRRPConfig = `
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  advert_interval   = "1s"
  virtual_ips       = ["192.0.2.100/24"]
}
`

// TestDoctorDirectorVIPAndFirewall: a VIP held outside lvsd and an
// nftables rule dropping VRRP are problems whose fixes work; the VIP
// held by the running lvsd as MASTER is not.
func TestDoctorDirectorVIPAndFirewall(t *testing.T) {
	l := lab.New(t)
	dir := l.Host("dir")
	dir.Connect(l.Network("lan"), dirAIP)
	cfg := doctorConfig(t, doctorVRRPConfig)

	r := runDoctor(t, dir, "-c", cfg)
	r.wantExit(t, 0)
	r.want(t, "ok", "IPVS not needed")
	r.want(t, "warning", "duplicate VRIDs on the wire not checked")

	doctorAddAddr(t, dir, "eth0", doctorVIP24)
	r = runDoctor(t, dir, "-c", cfg)
	r.wantExit(t, 1)
	line := r.want(t, "PROBLEM", "VIP 192.0.2.100 of VI_1 is on eth0 but lvsd is not running: something else holds it", "fix: ip addr del 192.0.2.100/24 dev eth0")
	doctorApplyFix(t, dir, line)
	runDoctor(t, dir, "-c", cfg).wantExit(t, 0)

	if _, err := exec.LookPath("nft"); err != nil {
		t.Log("nft is not installed: the firewall part is skipped")
	} else {
		nft := dir.Command(context.Background(), "nft", "-f", "-")
		nft.Stdin = strings.NewReader(`table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
    iif lo accept
    tcp dport 22 accept
  }
}
`)
		if out, err := doctorOutput(dir, nft); err != nil {
			t.Fatalf("nft: %v\n%s", err, out)
		}
		r = runDoctor(t, dir, "-c", cfg)
		r.wantExit(t, 1)
		line = r.want(t, "PROBLEM", "nftables drops VRRP (IPv4, IP protocol 112) arriving on eth0: the drop policy of chain inet filter input",
			"fix: nft insert rule inet filter input iifname eth0 meta l4proto vrrp accept")
		doctorApplyFix(t, dir, line)
		r = runDoctor(t, dir, "-c", cfg)
		r.wantExit(t, 0)
		r.want(t, "ok", "nftables accepts VRRP (IPv4) arriving on eth0 by rule handle")
	}

	// lvsd itself, alone, becomes MASTER and holds the VIP: fine.
	p := lvsdtest.Start(t, dir, doctorVRRPConfig)
	lvsdtest.WaitFor(t, 10*time.Second, "lvsd becomes MASTER", func() bool { return p.State() == "MASTER" })
	r = runDoctor(t, dir, "-c", p.Config)
	r.wantExit(t, 0)
	r.want(t, "ok", "VIPs of VI_1 (192.0.2.100) are held only by the running lvsd, which is MASTER")
}

// TestDoctorLegacyIptables: a host on iptables-legacy with an INPUT
// policy of DROP drops VRRP where nftables shows nothing; doctor reads
// the legacy table, and its fix lets the adverts in. Then a real peer's
// adverts reach lvsd through that rule: one master.
func TestDoctorLegacyIptables(t *testing.T) {
	p := newPairLab(t)
	cfg := doctorConfig(t, doctorVRRPConfig)
	legacy := func(args ...string) {
		t.Helper()
		if out, err := doctorOutput(p.a, p.a.Command(context.Background(), "iptables-legacy", args...)); err != nil {
			t.Fatalf("iptables-legacy %v: %v\n%s", args, err, out)
		}
	}
	legacy("-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
	legacy("-P", "INPUT", "DROP")
	r := runDoctor(t, p.a, "-c", cfg)
	r.wantExit(t, 1)
	line := r.want(t, "PROBLEM", "legacy iptables drops VRRP (IPv4, IP protocol 112) arriving on eth0: the DROP policy of the INPUT chain",
		"fix: iptables-legacy -I INPUT -i eth0 -p 112 -j ACCEPT")

	// Without the fix, dir-a is deaf to dir-b: two masters.
	a := lvsdtest.Start(t, p.a, instanceHCL(100, ""))
	b := lvsdtest.Start(t, p.b, instanceHCL(150, ""))
	b.WaitState("MASTER", 5*time.Second)
	a.WaitState("MASTER", 5*time.Second)

	doctorApplyFix(t, p.a, line)
	a.WaitState("BACKUP", 3*time.Second)
	r = runDoctor(t, p.a, "-c", a.Config)
	r.wantExit(t, 0)
	// "-p vrrp", or "-p 112" on a host without /etc/protocols.
	r.want(t, "ok", "legacy iptables accepts VRRP (IPv4) arriving on eth0 by rule -A INPUT -i eth0 -p ")
}

var doctorVIP24 = netip.MustParsePrefix("192.0.2.100/24")

// TestDoctorDuplicateVRID: listening on the wire tells the peer (same
// VRID, same VIPs) from another virtual router with our VRID.
func TestDoctorDuplicateVRID(t *testing.T) {
	l := lab.New(t)
	lan := l.Network("lan")
	dir, peer, rogue := l.Host("dir"), l.Host("peer"), l.Host("rogue")
	dir.Connect(lan, dirAIP)
	peer.Connect(lan, dirBIP)
	rogue.Connect(lan, netip.MustParsePrefix("192.0.2.13/24"))
	cfg := doctorConfig(t, doctorVRRPConfig)

	p := lvsdtest.Start(t, peer, doctorVRRPConfig)
	lvsdtest.WaitFor(t, 10*time.Second, "the peer becomes MASTER", func() bool { return p.State() == "MASTER" })
	r := runDoctor(t, dir, "-c", cfg, "--listen", "3s")
	r.wantExit(t, 0)
	r.want(t, "ok", "VRID 51 of VI_1 on eth0: listened 3s, heard it only from 192.0.2.12 with the same VIPs (the peer)")
	p.Terminate()

	q := lvsdtest.Start(t, rogue, strings.ReplaceAll(doctorVRRPConfig, "192.0.2.100/24", "192.0.2.200/24"))
	lvsdtest.WaitFor(t, 10*time.Second, "the rogue becomes MASTER", func() bool { return q.State() == "MASTER" })
	r = runDoctor(t, dir, "-c", cfg, "--listen", "3s")
	r.wantExit(t, 1)
	r.want(t, "PROBLEM", "192.0.2.13 advertises VRID 51 on eth0 with 192.0.2.200, not the VIPs of VI_1 (192.0.2.100)")
}

// TestDoctorRealServerDR: a DR real server with the VIP on lo needs
// arp_ignore and arp_announce; the printed fixes make it right.
func TestDoctorRealServerDR(t *testing.T) {
	l := lab.New(t)
	web := l.Host("web")
	web.Connect(l.Network("lan"), netip.MustParsePrefix("192.0.2.21/24"))
	doctorAddAddr(t, web, "lo", netip.MustParsePrefix("192.0.2.100/32"))
	doctorSysctl(t, web, "net.ipv4.conf.all.arp_ignore", "0", "net.ipv4.conf.eth0.arp_ignore", "0",
		"net.ipv4.conf.all.arp_announce", "2")

	r := runDoctor(t, web, "--real-server", "192.0.2.100")
	r.wantExit(t, 1)
	r.want(t, "ok", "VIP 192.0.2.100 is on lo as 192.0.2.100/32 (DR)")
	line := r.want(t, "PROBLEM", "arp_ignore on eth0 is 0", "fix: sysctl -w net.ipv4.conf.all.arp_ignore=1")
	r.want(t, "ok", "arp_announce is 2 on eth0")

	doctorApplyFix(t, web, line)
	r = runDoctor(t, web, "--real-server", "192.0.2.100")
	r.wantExit(t, 0)
	r.want(t, "ok", "arp_ignore is 1 or 2 on every interface (eth0=1): each answers ARP only for its own addresses, not for 192.0.2.100")

	doctorSysctl(t, web, "net.ipv4.conf.all.arp_announce", "0")
	r = runDoctor(t, web, "--real-server", "192.0.2.100")
	r.wantExit(t, 1)
	doctorApplyFix(t, web, r.want(t, "PROBLEM", "arp_announce on eth0 is 0", "fix: sysctl -w net.ipv4.conf.all.arp_announce=2"))
	runDoctor(t, web, "--real-server", "192.0.2.100").wantExit(t, 0)
}

// TestDoctorRealServerVIPOnEth0: the VIP on a real interface makes the
// real server answer ARP for it; the fix moves it to lo.
func TestDoctorRealServerVIPOnEth0(t *testing.T) {
	l := lab.New(t)
	web := l.Host("web")
	web.Connect(l.Network("lan"), netip.MustParsePrefix("192.0.2.21/24"))
	doctorSysctl(t, web, "net.ipv4.conf.all.arp_ignore", "1", "net.ipv4.conf.all.arp_announce", "2")
	doctorAddAddr(t, web, "eth0", doctorVIP24)

	r := runDoctor(t, web, "--real-server", "192.0.2.100")
	r.wantExit(t, 1)
	if n := strings.Count(r.out, "PROBLEM: "); n != 1 {
		t.Errorf("%d problems, want 1: one fix to paste", n)
	}
	line := r.want(t, "PROBLEM", "VIP 192.0.2.100 is on eth0, a real interface: this real server answers ARP for the VIP",
		"fix: ip addr del 192.0.2.100/24 dev eth0 && ip addr add 192.0.2.100/32 dev lo")
	doctorApplyFix(t, web, line)
	r = runDoctor(t, web, "--real-server", "192.0.2.100")
	r.wantExit(t, 0)
	r.want(t, "ok", "VIP 192.0.2.100 is on lo as 192.0.2.100/32 (DR)")
}
