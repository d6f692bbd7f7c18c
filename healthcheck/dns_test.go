package healthcheck

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer is a tiny DNS server on loopback, UDP and TCP on one port,
// whose answers depend on the name asked:
//
//	ok.test.       one A record (nothing for other types)
//	cname.test.    a CNAME to ok.test. and its A record
//	missing.test.  NXDOMAIN
//	empty.test.    NOERROR without records
//	broken.test.   SERVFAIL
//	big.test.      truncated over UDP; three A records over TCP
//	silent.test.   no answer at all
//	wrongid.test.  an answer with another ID
type dnsServer struct {
	addr       netip.AddrPort
	tcpQueries atomic.Int32
}

func startDNS(t *testing.T) *dnsServer {
	t.Helper()
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	// The TCP listener takes the UDP socket's port; another process may
	// hold it, so try a few.
	for range 10 {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close(); ln.Close() })
	s := &dnsServer{addr: addrOf(t, pc.LocalAddr())}
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := s.answer(t, buf[:n], true); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.tcpQueries.Add(1)
			go func() {
				defer c.Close()
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				if resp := s.answer(t, q, false); resp != nil {
					c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...))
				}
			}()
		}
	}()
	return s
}

func (s *dnsServer) answer(t *testing.T, query []byte, udp bool) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		t.Errorf("dns server: %v", err)
		return nil
	}
	q, err := p.Question()
	if err != nil {
		t.Errorf("dns server: %v", err)
		return nil
	}
	if !h.RecursionDesired {
		t.Errorf("dns server: query without RD")
	}
	resp := dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired}
	var as []dnsmessage.Resource
	a := func(name string, last byte) dnsmessage.Resource {
		return dnsmessage.Resource{
			Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.AResource{A: [4]byte{192, 0, 2, last}},
		}
	}
	switch q.Name.String() {
	case "ok.test.":
		if q.Type == dnsmessage.TypeA {
			as = append(as, a("ok.test.", 1))
		}
	case "cname.test.":
		as = append(as, dnsmessage.Resource{
			Header: dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName("ok.test.")},
		})
		if q.Type == dnsmessage.TypeA {
			as = append(as, a("ok.test.", 1))
		}
	case "missing.test.":
		resp.RCode = dnsmessage.RCodeNameError
	case "broken.test.":
		resp.RCode = dnsmessage.RCodeServerFailure
	case "big.test.":
		if udp {
			resp.Truncated = true
		} else {
			as = append(as, a("big.test.", 1), a("big.test.", 2), a("big.test.", 3))
		}
	case "silent.test.":
		return nil
	case "wrongid.test.":
		resp.ID++
	}
	msg := dnsmessage.Message{Header: resp, Questions: []dnsmessage.Question{q}, Answers: as}
	out, err := msg.Pack()
	if err != nil {
		t.Errorf("dns server: %v", err)
		return nil
	}
	return out
}

func dnsCheck(t *testing.T, at netip.AddrPort, name string, typ DNSType) Checker {
	t.Helper()
	return mustChecker(t, at, Config{Kind: DNS, DNS: DNSCheck{Name: name, Type: typ}}, nil)
}

func TestDNS(t *testing.T) {
	srv := startDNS(t)
	for _, tc := range []struct {
		name   string
		typ    DNSType
		up     bool
		reason string
	}{
		{"ok.test", DNSA, true, "NOERROR, 1 A answer"},
		{"ok.test.", DNSA, true, "NOERROR, 1 A answer"},
		{"cname.test", DNSA, true, "NOERROR, 1 A answer"},
		{"ok.test", 28, false, "NOERROR but no answer for ok.test. AAAA"},
		{"cname.test", 28, false, "NOERROR but no answer for cname.test. AAAA"},
		{"empty.test", DNSA, false, "NOERROR but no answer for empty.test. A"},
		{"missing.test", DNSA, false, "NXDOMAIN for missing.test. A"},
		{"broken.test", DNSA, false, "SERVFAIL for broken.test. A"},
	} {
		t.Run(tc.name+"/"+tc.typ.String(), func(t *testing.T) {
			r := runCheck(t, dnsCheck(t, srv.addr, tc.name, tc.typ))
			if tc.up {
				wantUp(t, r, tc.reason)
			} else {
				wantDown(t, r, tc.reason)
			}
		})
	}
}

// A truncated UDP answer is asked again over TCP.
func TestDNSTruncatedRetriesOverTCP(t *testing.T) {
	srv := startDNS(t)
	wantUp(t, runCheck(t, dnsCheck(t, srv.addr, "big.test", DNSA)), "NOERROR, 3 A answers")
	if n := srv.tcpQueries.Load(); n != 1 {
		t.Errorf("%d TCP queries, want 1", n)
	}
}

// No answer, or only answers to another query ID, fail at the timeout.
func TestDNSTimeout(t *testing.T) {
	srv := startDNS(t)
	for _, name := range []string{"silent.test", "wrongid.test"} {
		t.Run(name, func(t *testing.T) {
			r := runCheckWithin(t, dnsCheck(t, srv.addr, name, DNSA), shortTimeout)
			wantDown(t, r, "timeout after 300ms waiting for answer")
		})
	}
}

// A closed UDP port answers with ICMP port unreachable, which the
// connected socket reports at once.
func TestDNSPortClosed(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	at := addrOf(t, pc.LocalAddr())
	pc.Close()
	wantDown(t, runCheck(t, dnsCheck(t, at, "ok.test", DNSA)), "read: connection refused")
}
