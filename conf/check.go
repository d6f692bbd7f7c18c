package conf

import (
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsd/lvsd/healthcheck"
)

var checkCommon = []hcl.AttributeSchema{
	{Name: "interval"}, {Name: "timeout"}, {Name: "rise"}, {Name: "fall"},
	{Name: "port"}, {Name: "source_ip"},
}

// checkSchemas are the attributes each check kind takes: an attribute of
// another kind is an error, not silently ignored.
var checkSchemas = map[healthcheck.Kind]*hcl.BodySchema{
	healthcheck.TCP: {Attributes: checkCommon},
	healthcheck.HTTP: {Attributes: append([]hcl.AttributeSchema{
		{Name: "path"}, {Name: "status"}, {Name: "body_regex"}, {Name: "digest"},
		{Name: "host"}, {Name: "method"}, {Name: "tls"}, {Name: "tls_verify"},
	}, checkCommon...)},
	healthcheck.Script: {Attributes: append([]hcl.AttributeSchema{{Name: "command", Required: true}}, checkCommon...)},
	healthcheck.DNS:    {Attributes: append([]hcl.AttributeSchema{{Name: "name", Required: true}, {Name: "type"}}, checkCommon...)},
}

// Check defaults. The timeout defaults to the smaller of DefaultCheckTimeout
// and half the interval, so that a short interval alone is valid.
const (
	DefaultCheckInterval = 2 * time.Second
	DefaultCheckTimeout  = time.Second
	DefaultCheckRise     = 2
	DefaultCheckFall     = 3
)

var httpMethod = regexp.MustCompile(`^[A-Z]+$`)

// check decodes a check block; ok is false when it had errors.
func (d *decoder) check(b *hcl.Block) (hc healthcheck.Config, a attrs, ok bool) {
	before := len(d.diags.Errs())
	kind, err := healthcheck.ParseKind(b.Labels[0])
	if err != nil {
		d.errorf(b.LabelRanges[0], "Unknown check kind", "%s", err)
		return hc, a, false
	}
	hc = healthcheck.Config{
		Kind:     kind,
		Interval: DefaultCheckInterval,
		Rise:     DefaultCheckRise,
		Fall:     DefaultCheckFall,
	}
	a, _ = d.content(b.Body, checkSchemas[kind])
	a.duration("interval", 10*time.Millisecond, time.Hour, &hc.Interval)
	hc.Timeout = min(DefaultCheckTimeout, hc.Interval/2)
	if a.duration("timeout", time.Millisecond, time.Hour, &hc.Timeout) && hc.Timeout >= hc.Interval {
		d.errorf(a.rng("timeout"), "Check timeout not below interval",
			"timeout %s must be shorter than interval %s, so a hung check ends before the next one starts", hc.Timeout, hc.Interval)
	}
	a.integer("rise", 1, 1000, &hc.Rise)
	a.integer("fall", 1, 1000, &hc.Fall)
	var port int
	if a.integer("port", 1, 65535, &port) {
		hc.Port = uint16(port)
	}
	a.addr("source_ip", &hc.SourceIP)

	switch kind {
	case healthcheck.HTTP:
		hc.HTTP = healthcheck.HTTPCheck{Path: "/", Method: "GET", TLSVerify: true}
		d.httpCheck(a, &hc.HTTP)
	case healthcheck.Script:
		a.argv("command", &hc.Script.Command)
	case healthcheck.DNS:
		hc.DNS.Type = healthcheck.DNSA
		if a.str("name", &hc.DNS.Name) && !validDomain(hc.DNS.Name) {
			d.errorf(a.rng("name"), "Invalid name", "%q is not a domain name", hc.DNS.Name)
		}
		var typ string
		if a.str("type", &typ) {
			t, err := healthcheck.ParseDNSType(strings.ToUpper(typ))
			if err != nil {
				d.errorf(a.rng("type"), "Invalid type", "%s", err)
			}
			hc.DNS.Type = t
		}
	}
	return hc, a, len(d.diags.Errs()) == before
}

func (d *decoder) httpCheck(a attrs, h *healthcheck.HTTPCheck) {
	if a.str("path", &h.Path) && !strings.HasPrefix(h.Path, "/") {
		d.errorf(a.rng("path"), "Invalid path", "%q must start with /", h.Path)
	}
	if a.str("method", &h.Method) && !httpMethod.MatchString(h.Method) {
		d.errorf(a.rng("method"), "Invalid method", "%q is not an HTTP method, like GET or HEAD", h.Method)
	}
	a.str("host", &h.Host)
	a.ints("status", 100, 599, &h.Status)
	var re string
	if a.str("body_regex", &re) {
		compiled, err := regexp.Compile(re)
		if err != nil {
			d.errorf(a.rng("body_regex"), "Invalid body_regex", "%s", err)
		}
		h.BodyRegex = compiled
	}
	if a.str("digest", &h.Digest) {
		h.Digest = strings.ToLower(h.Digest)
		if b, err := hex.DecodeString(h.Digest); err != nil || len(b) != 16 {
			d.errorf(a.rng("digest"), "Invalid digest", "%q is not an MD5 digest: 32 hexadecimal digits, as `genhash` or `md5sum` print", h.Digest)
		}
	}
	a.boolean("tls", &h.TLS)
	a.boolean("tls_verify", &h.TLSVerify)
}

// validDomain accepts a DNS name of letters, digits, '-', '_' and dots.
func validDomain(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}
