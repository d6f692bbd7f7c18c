package conf

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScriptSecurity: a script that another user could change is refused
// with the reason and the fix, as keepalived's script security does.
func TestScriptSecurity(t *testing.T) {
	dir, err := os.MkdirTemp("/var/tmp", "lvsd-script-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	script := filepath.Join(dir, "check")
	os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	if err := (ThisHost{}).Executable(script); err != nil {
		t.Fatalf("a root-owned 0755 script under root-only directories: %v", err)
	}
	os.Chmod(script, 0o777)
	if os.Geteuid() != 0 {
		// lvsd not running as root runs scripts as itself: nothing to protect.
		if err := (ThisHost{}).Executable(script); err != nil {
			t.Errorf("as non-root, a writable script: %v", err)
		}
		return
	}
	if err := (ThisHost{}).Executable(script); err == nil || !strings.Contains(err.Error(), "writable by group or others") || !strings.Contains(err.Error(), "chmod go-w "+script) {
		t.Errorf("world-writable script: %v", err)
	}
	os.Chmod(script, 0o755)
	os.Chmod(dir, 0o777)
	if err := (ThisHost{}).Executable(script); err == nil || !strings.Contains(err.Error(), dir+" is writable") {
		t.Errorf("script in a world-writable directory: %v", err)
	}
	os.Chmod(dir, 0o755)
	os.Chown(script, 65534, 65534)
	if err := (ThisHost{}).Executable(script); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("script owned by nobody: %v", err)
	}
	if err := (ThisHost{}).Executable("true"); err != nil {
		t.Errorf("a bare name found in PATH: %v", err)
	}
}

// TestVIPIsHostAddress: a VIP that is the host's own address is refused
// (finding 9 of issue 10: BACKUP would delete it, and its subnet's
// addresses with it); the VIPs a running master holds are not.
func TestVIPIsHostAddress(t *testing.T) {
	own := IfaceAddr{Prefix: netip.MustParsePrefix("192.0.2.11/24")}
	own6 := IfaceAddr{Prefix: netip.MustParsePrefix("2001:db8::11/64")}
	ll := IfaceAddr{Prefix: netip.MustParsePrefix("fe80::1:11/64")}
	lvsdVIP := IfaceAddr{Prefix: netip.MustParsePrefix("192.0.2.100/24"), Secondary: true}
	lvsd32 := IfaceAddr{Prefix: netip.MustParsePrefix("198.51.100.7/32")}
	lvsd6 := IfaceAddr{Prefix: netip.MustParsePrefix("2001:db8::100/64"), NoDAD: true}
	cases := []struct {
		name  string
		vips  string
		addrs []IfaceAddr
		want  string // "" : accepted
	}{
		{"the host's address and prefix", `"192.0.2.11/24"`, []IfaceAddr{own}, "f.hcl:4,18: Virtual IP 192.0.2.11 is this host's own address; eth0 holds 192.0.2.11/24 as its own; as BACKUP lvsd would delete it"},
		{"the host's address, another prefix", `"192.0.2.100/24", "192.0.2.11"`, []IfaceAddr{own}, "f.hcl:4,36: Virtual IP 192.0.2.11 is this host's own address"},
		{"the host's IPv6 address", `"2001:db8::11/64"`, []IfaceAddr{own6, ll}, "f.hcl:4,18: Virtual IP 2001:db8::11 is this host's own address; eth0 holds 2001:db8::11/64 as its own"},
		{"the host's IPv6 link-local address", `"fe80::1:11/64"`, []IfaceAddr{own6, ll}, "Virtual IP fe80::1:11 is this host's own address"},
		{"a free address", `"192.0.2.100/24"`, []IfaceAddr{own}, ""},
		{"master: its VIP a secondary", `"192.0.2.100/24"`, []IfaceAddr{own, lvsdVIP}, ""},
		{"master: its /32 VIP a later primary", `"198.51.100.7/32"`, []IfaceAddr{own, lvsd32}, ""},
		{"master: its IPv6 VIP", `"2001:db8::100/64"`, []IfaceAddr{ll, own6, lvsd6}, ""},
		{"master of an interface without an IPv6 address of its own", `"2001:db8::100/64"`, []IfaceAddr{ll, lvsd6}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "vrrp \"VI_1\" {\n  interface = \"eth0\"\n  virtual_router_id = 51\n  virtual_ips = [" + c.vips + "]\n}\n"
			host := fakeHost{ifaces: []string{"eth0"}, addrs: map[string][]IfaceAddr{"eth0": c.addrs}}
			cfg, diags := Parse([]byte(src), "f.hcl", host)
			if c.want == "" {
				if len(diags) > 0 || cfg == nil {
					t.Fatalf("refused: %v", diags)
				}
				return
			}
			if cfg != nil || len(diags) != 1 || !IsHostProblem(diags[0]) {
				t.Fatalf("config %v, diagnostics %v; want one error about this host", cfg != nil, diags)
			}
			if got := FormatDiagnostic(diags[0]); !strings.Contains(got, c.want) {
				t.Errorf("got %q\nwant it to contain %q", got, c.want)
			}
		})
	}
}

// TestThisHostAddresses reads a real interface: lo holds 127.0.0.1/8 as
// its primary.
func TestThisHostAddresses(t *testing.T) {
	addrs, err := ThisHost{}.Addresses("lo")
	if err != nil {
		t.Fatal(err)
	}
	if own, ok := ownAddress(addrs, netip.MustParseAddr("127.0.0.1")); !ok || own.Prefix != netip.MustParsePrefix("127.0.0.1/8") {
		t.Errorf("lo: %v; want 127.0.0.1/8 as its primary", addrs)
	}
	if _, err := (ThisHost{}).Addresses("lvsdnone0"); err == nil {
		t.Error("an interface that does not exist: no error")
	}
}
