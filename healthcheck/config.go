package healthcheck

import (
	"fmt"
	"net/netip"
	"regexp"
	"time"
)

// Kind is the kind of a check.
type Kind uint8

const (
	TCP    Kind = iota + 1 // connect
	HTTP                   // HTTP or HTTPS request
	Script                 // command, exit 0 = up
	DNS                    // query that must be answered
)

var kindNames = map[Kind]string{TCP: "tcp", HTTP: "http", Script: "script", DNS: "dns"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind maps a check block label to a Kind.
func ParseKind(s string) (Kind, error) {
	for k, name := range kindNames {
		if name == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown check kind %q (want tcp, http, script or dns)", s)
}

// Config is one check of one real server. Treat it as read-only.
type Config struct {
	Kind     Kind
	Interval time.Duration
	Timeout  time.Duration // whole check, end to end
	Rise     int           // consecutive successes to go up
	Fall     int           // consecutive failures to go down
	Port     uint16        // 0: the real server's port
	SourceIP netip.Addr    // zero: chosen by the kernel

	HTTP   HTTPCheck
	Script ScriptCheck
	DNS    DNSCheck
}

// HTTPCheck is the part of Config used by HTTP checks.
type HTTPCheck struct {
	Path      string
	Method    string
	Host      string
	Status    []int          // empty: any 2xx
	BodyRegex *regexp.Regexp // nil: body not inspected
	Digest    string         // lowercase hex md5 of the body; empty: not checked
	TLS       bool
	TLSVerify bool
}

// ScriptCheck is the part of Config used by script checks.
type ScriptCheck struct {
	Command []string
}

// DNSCheck is the part of Config used by DNS checks.
type DNSCheck struct {
	Name string
	Type DNSType
}

// DNSType is a DNS record type (RFC 1035 §3.2.2 and successors).
type DNSType uint16

// DNSA is the default record type asked for.
const DNSA DNSType = 1

var dnsTypes = map[string]DNSType{
	"A": DNSA, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33,
}

func (t DNSType) String() string {
	for name, v := range dnsTypes {
		if v == t {
			return name
		}
	}
	return fmt.Sprintf("TYPE%d", uint16(t))
}

// ParseDNSType maps a record type name (A, AAAA, …) to its value.
func ParseDNSType(s string) (DNSType, error) {
	if t, ok := dnsTypes[s]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("unknown DNS record type %q (want A, AAAA, CNAME, MX, NS, PTR, SOA, SRV or TXT)", s)
}
