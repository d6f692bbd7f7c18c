package healthcheck

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Check timeouts in the checker tests. Neither is asserted as a duration
// (wall-clock timings belong to the benchmark): shortTimeout is what the
// tests of hung servers wait for and see named in the reason; checks that
// should succeed get a generous one, so a loaded machine does not fail them.
const (
	shortTimeout = 300 * time.Millisecond
	ampleTimeout = 10 * time.Second
)

// runCheck runs one check the way the monitor does: ctx carries the timeout.
func runCheck(t *testing.T, c Checker) Result {
	t.Helper()
	return runCheckWithin(t, c, ampleTimeout)
}

func runCheckWithin(t *testing.T, c Checker, timeout time.Duration) Result {
	t.Helper()
	ctx, cancel := WithTimeout(t.Context(), timeout)
	defer cancel()
	return c.Check(ctx)
}

func mustChecker(t *testing.T, addr netip.AddrPort, cfg Config, r Runner) Checker {
	t.Helper()
	cfg.Port = addr.Port()
	c, err := NewChecker(addr.Addr(), cfg, r)
	if err != nil {
		t.Fatalf("NewChecker: %v", err)
	}
	return c
}

func wantUp(t *testing.T, r Result, reason string) {
	t.Helper()
	if !r.Up || r.Reason != reason || r.Err != nil {
		t.Fatalf("result = up %v, reason %q, err %v; want up, reason %q", r.Up, r.Reason, r.Err, reason)
	}
}

func wantDown(t *testing.T, r Result, reason string) {
	t.Helper()
	if r.Up || r.Reason != reason || r.Err == nil {
		t.Fatalf("result = up %v, reason %q, err %v; want down, reason %q", r.Up, r.Reason, r.Err, reason)
	}
}

func wantDownPrefix(t *testing.T, r Result, prefix string) {
	t.Helper()
	if r.Up || !strings.HasPrefix(r.Reason, prefix) || r.Err == nil {
		t.Fatalf("result = up %v, reason %q, err %v; want down, reason %q…", r.Up, r.Reason, r.Err, prefix)
	}
}

// addrOf is a listener's address as a netip.AddrPort.
func addrOf(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// closedPort is a loopback TCP address nothing listens on.
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := addrOf(t, ln.Addr())
	ln.Close()
	return ap
}

func TestNewCheckerRejects(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"tcp without port", Config{Kind: TCP}, "tcp check of 127.0.0.1: no port"},
		{"script without command", Config{Kind: Script}, "script check of 127.0.0.1: empty command"},
		{"script without runner", Config{Kind: Script, Script: ScriptCheck{Command: []string{"/bin/true"}}}, "script check of 127.0.0.1: no runner"},
		{"bad digest", Config{Kind: HTTP, Port: 80, HTTP: HTTPCheck{Digest: "abc"}}, `http check of 127.0.0.1:80: digest "abc" is not an md5 in hex`},
		{"unknown kind", Config{Kind: 9, Port: 80}, "check of 127.0.0.1: kind(9)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewChecker(addr, tc.cfg, nil)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
