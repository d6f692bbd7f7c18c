package healthcheck

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsChecker asks the server for Name/Type over UDP, and again over TCP
// when the answer is truncated (RFC 7766 §5). It is up when the server
// answers NOERROR with at least one record of that type.
type dnsChecker struct {
	target netip.AddrPort
	dial   dialer
	qtype  dnsmessage.Type
	label  string // "example.org. AAAA", for reasons
	query  []byte // with ID 0; each check sets its own
}

// maxUDPAnswer is the read buffer: without EDNS(0), a server sends at
// most 512 bytes over UDP (RFC 1035 §4.2.1); anything larger is not for us.
const maxUDPAnswer = 512

var errBadAnswer = errors.New("malformed DNS answer")

func newDNSChecker(target netip.AddrPort, cfg Config) (*dnsChecker, error) {
	fqdn := cfg.DNS.Name
	if !strings.HasSuffix(fqdn, ".") {
		fqdn += "."
	}
	name, err := dnsmessage.NewName(fqdn)
	if err != nil {
		return nil, fmt.Errorf("dns check of %s: name %q: %w", target, cfg.DNS.Name, err)
	}
	typ := cfg.DNS.Type
	if typ == 0 {
		typ = DNSA
	}
	// RD is set as keepalived's DNS_CHECK sets it: a recursive server
	// then answers from its cache, an authoritative one ignores it.
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{RecursionDesired: true})
	b.EnableCompression()
	q := dnsmessage.Question{Name: name, Type: dnsmessage.Type(typ), Class: dnsmessage.ClassINET}
	if err := b.StartQuestions(); err != nil {
		return nil, fmt.Errorf("dns check of %s: %w", target, err)
	}
	if err := b.Question(q); err != nil {
		return nil, fmt.Errorf("dns check of %s: %w", target, err)
	}
	msg, err := b.Finish()
	if err != nil {
		return nil, fmt.Errorf("dns check of %s: %w", target, err)
	}
	return &dnsChecker{
		target: target,
		dial:   newDialer(cfg.SourceIP),
		qtype:  q.Type,
		label:  fqdn + " " + typ.String(),
		query:  msg,
	}, nil
}

func (c *dnsChecker) Check(ctx context.Context) Result {
	clk := startClock(ctx)
	id := uint16(rand.Uint32())
	query := append([]byte(nil), c.query...)
	binary.BigEndian.PutUint16(query, id)

	phase, answer, err := c.overUDP(ctx, query, id)
	if err == nil && answer.hdr.Truncated {
		phase, answer, err = c.overTCP(ctx, query, id)
	}
	switch {
	case errors.Is(err, errBadAnswer):
		return clk.down(err, "%s", err)
	case err != nil:
		return clk.failed(ctx, phase, err)
	case answer.hdr.RCode != dnsmessage.RCodeSuccess:
		return clk.down(nil, "%s for %s", rcodeName(answer.hdr.RCode), c.label)
	case answer.matching == 0:
		return clk.down(nil, "NOERROR but no answer for %s", c.label)
	}
	return clk.up(fmt.Sprintf("NOERROR, %d %s answer%s", answer.matching, DNSType(c.qtype), plural(answer.matching)))
}

// overUDP sends the query and waits for the answer with its ID; others
// (late answers to an earlier check) are skipped. On failure, phase says
// what it was doing.
func (c *dnsChecker) overUDP(ctx context.Context, query []byte, id uint16) (string, dnsAnswer, error) {
	conn, release, err := c.dial.dial(ctx, "udp", c.target)
	if err != nil {
		return "opening UDP socket", dnsAnswer{}, err
	}
	defer release()
	if _, err := conn.Write(query); err != nil {
		return "sending query", dnsAnswer{}, err
	}
	buf := make([]byte, maxUDPAnswer)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return "waiting for answer", dnsAnswer{}, err
		}
		if n < 2 || binary.BigEndian.Uint16(buf) != id {
			continue // not the answer to this query (a late one to an earlier check): keep waiting
		}
		a, err := c.parse(buf[:n])
		return "", a, err
	}
}

// overTCP sends the query with its two-byte length prefix (RFC 1035
// §4.2.2) on a connection of its own.
func (c *dnsChecker) overTCP(ctx context.Context, query []byte, id uint16) (string, dnsAnswer, error) {
	conn, release, err := c.dial.dial(ctx, "tcp", c.target)
	if err != nil {
		return "connecting over TCP", dnsAnswer{}, err
	}
	defer release()
	msg := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(query)), uint16(len(query)))
	if _, err := conn.Write(append(msg, query...)); err != nil {
		return "sending query over TCP", dnsAnswer{}, err
	}
	var length [2]byte
	if _, err := io.ReadFull(conn, length[:]); err != nil {
		return "waiting for TCP answer", dnsAnswer{}, err
	}
	buf := make([]byte, binary.BigEndian.Uint16(length[:]))
	if _, err := io.ReadFull(conn, buf); err != nil {
		return "reading TCP answer", dnsAnswer{}, err
	}
	a, err := c.parse(buf)
	if err == nil && a.hdr.ID != id {
		err = fmt.Errorf("%w: ID %d, want %d", errBadAnswer, a.hdr.ID, id)
	}
	return "", a, err
}

// dnsAnswer is what a check needs of an answer.
type dnsAnswer struct {
	hdr      dnsmessage.Header
	matching int // answer records of the asked type
}

func (c *dnsChecker) parse(msg []byte) (dnsAnswer, error) {
	var p dnsmessage.Parser
	hdr, err := p.Start(msg)
	if err != nil {
		return dnsAnswer{}, fmt.Errorf("%w: %w", errBadAnswer, err)
	}
	a := dnsAnswer{hdr: hdr}
	if !hdr.Response {
		return a, fmt.Errorf("%w: not a response", errBadAnswer)
	}
	if hdr.Truncated || hdr.RCode != dnsmessage.RCodeSuccess {
		return a, nil // the records are incomplete or irrelevant
	}
	if err := p.SkipAllQuestions(); err != nil {
		return a, fmt.Errorf("%w: %w", errBadAnswer, err)
	}
	for {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return a, nil
		}
		if err != nil {
			return a, fmt.Errorf("%w: %w", errBadAnswer, err)
		}
		// A CNAME chain may precede the records asked for; only those count.
		if rh.Type == c.qtype && rh.Class == dnsmessage.ClassINET {
			a.matching++
		}
		if err := p.SkipAnswer(); err != nil {
			return a, fmt.Errorf("%w: %w", errBadAnswer, err)
		}
	}
}

var rcodeNames = map[dnsmessage.RCode]string{
	dnsmessage.RCodeSuccess:        "NOERROR",
	dnsmessage.RCodeFormatError:    "FORMERR",
	dnsmessage.RCodeServerFailure:  "SERVFAIL",
	dnsmessage.RCodeNameError:      "NXDOMAIN",
	dnsmessage.RCodeNotImplemented: "NOTIMP",
	dnsmessage.RCodeRefused:        "REFUSED",
}

// rcodeName is the mnemonic dig prints (RFC 6895 §2.3).
func rcodeName(r dnsmessage.RCode) string {
	if s, ok := rcodeNames[r]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", uint16(r))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
