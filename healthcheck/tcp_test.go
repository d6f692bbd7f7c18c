package healthcheck

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
)

func TestTCPAccepted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	wantUp(t, runCheck(t, mustChecker(t, addrOf(t, ln.Addr()), Config{Kind: TCP}, nil)), "connected")
}

func TestTCPRefused(t *testing.T) {
	r := runCheck(t, mustChecker(t, closedPort(t), Config{Kind: TCP}, nil))
	wantDown(t, r, "connect: connection refused")
	if !errors.Is(r.Err, syscall.ECONNREFUSED) {
		t.Errorf("err %v is not ECONNREFUSED", r.Err)
	}
}

// The connection comes from source_ip when it is set: 127.0.0.2 is on lo
// like all of 127/8, so no root is needed to bind it.
func TestTCPSourceIP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	from := make(chan net.Addr, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		from <- c.RemoteAddr()
		c.Close()
	}()
	cfg := Config{Kind: TCP, SourceIP: netip.MustParseAddr("127.0.0.2")}
	wantUp(t, runCheck(t, mustChecker(t, addrOf(t, ln.Addr()), cfg, nil)), "connected")
	if got := addrOf(t, <-from).Addr(); got != cfg.SourceIP {
		t.Errorf("connection from %s, want %s", got, cfg.SourceIP)
	}
}
