package conf

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// decoder collects diagnostics while values are read, so that one run
// reports every problem of a file.
type decoder struct {
	diags hcl.Diagnostics
	// What the file asks of this host, checked once it is all read.
	programs   []located
	interfaces []located
}

// located is a value of the file with the range it came from.
type located struct {
	rng   hcl.Range
	value string
}

func (d *decoder) errorf(rng hcl.Range, summary, detail string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  rng.Ptr(),
	})
}

func (d *decoder) warnf(rng hcl.Range, summary, detail string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  rng.Ptr(),
	})
}

// content decodes body against schema; unknown attributes and blocks
// become errors pointing at them.
func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) (attrs, hcl.Blocks) {
	c, diags := body.Content(schema)
	d.diags = append(d.diags, diags...)
	return attrs{d: d, m: c.Attributes, block: body.MissingItemRange()}, c.Blocks
}

// attrs reads the attributes of one block. Every reader returns false when
// the attribute is absent or invalid (the problem is then recorded), and
// leaves dst alone, so defaults set beforehand survive.
type attrs struct {
	d     *decoder
	m     hcl.Attributes
	block hcl.Range // where a missing attribute is reported
}

func (a attrs) has(name string) bool { _, ok := a.m[name]; return ok }

// rng is the range of the attribute's value, or of the block if absent:
// where a problem with that setting is shown.
func (a attrs) rng(name string) hcl.Range {
	if at, ok := a.m[name]; ok {
		return at.Expr.Range()
	}
	return a.block
}

func (a attrs) value(name string, ty cty.Type) (cty.Value, bool) {
	at, ok := a.m[name]
	if !ok {
		return cty.NilVal, false
	}
	return a.d.eval(at.Expr, ty, name)
}

func (d *decoder) eval(expr hcl.Expression, ty cty.Type, name string) (cty.Value, bool) {
	v, diags := expr.Value(nil)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		d.errorf(expr.Range(), "Invalid "+name, "a value is required here, not null")
		return cty.NilVal, false
	}
	v, err := convert.Convert(v, ty)
	if err != nil {
		d.errorf(expr.Range(), "Invalid "+name, "%s", err)
		return cty.NilVal, false
	}
	return v, true
}

func (a attrs) str(name string, dst *string) bool {
	v, ok := a.value(name, cty.String)
	if ok {
		*dst = v.AsString()
	}
	return ok
}

func (a attrs) boolean(name string, dst *bool) bool {
	v, ok := a.value(name, cty.Bool)
	if ok {
		*dst = v.True()
	}
	return ok
}

// integer reads a whole number within [lo, hi].
func (a attrs) integer(name string, lo, hi int, dst *int) bool {
	v, ok := a.value(name, cty.Number)
	if !ok {
		return false
	}
	var n int64
	bf := v.AsBigFloat()
	if !bf.IsInt() || gocty.FromCtyValue(v, &n) != nil {
		a.d.errorf(a.rng(name), "Invalid "+name, "must be a whole number")
		return false
	}
	if n < int64(lo) || n > int64(hi) {
		a.d.errorf(a.rng(name), name+" out of range", "%d is not within %d..%d", n, lo, hi)
		return false
	}
	*dst = int(n)
	return true
}

// duration reads a Go duration string ("1s", "150ms") within [lo, hi].
func (a attrs) duration(name string, lo, hi time.Duration, dst *time.Duration) bool {
	var s string
	if !a.str(name, &s) {
		return false
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		a.d.errorf(a.rng(name), "Invalid "+name, "%q is not a duration; write it like \"1s\" or \"150ms\"", s)
		return false
	}
	if dur < lo || dur > hi {
		a.d.errorf(a.rng(name), name+" out of range", "%s is not within %s..%s", dur, lo, fmtMax(hi))
		return false
	}
	*dst = dur
	return true
}

func fmtMax(d time.Duration) string {
	if d == math.MaxInt64 {
		return "∞"
	}
	return d.String()
}

// list returns the element expressions of a list attribute, so each
// element's problem points at that element.
func (a attrs) list(name string) ([]hcl.Expression, bool) {
	at, ok := a.m[name]
	if !ok {
		return nil, false
	}
	exprs, diags := hcl.ExprList(at.Expr)
	if diags.HasErrors() {
		a.d.errorf(at.Expr.Range(), "Invalid "+name, "must be a list, like [\"a\", \"b\"]")
		return nil, false
	}
	return exprs, true
}

// strings reads a list of strings; empty elements are errors.
func (a attrs) strings(name string, dst *[]string) bool {
	return eachOf(a, name, cty.String, dst, func(e hcl.Expression, v cty.Value) (string, bool) {
		if strings.TrimSpace(v.AsString()) == "" {
			a.d.errorf(e.Range(), "Invalid "+name, "empty string in the list")
			return "", false
		}
		return v.AsString(), true
	})
}

// argv reads a command line: a non-empty list of strings, run without a shell.
func (a attrs) argv(name string, dst *[]string) bool {
	var argv []string
	if !a.strings(name, &argv) {
		return false
	}
	if len(argv) == 0 {
		a.d.errorf(a.rng(name), "Empty "+name, "give the program and its arguments, like [\"/usr/local/bin/check\", \"arg\"]")
		return false
	}
	a.d.programs = append(a.d.programs, located{a.rng(name), argv[0]})
	*dst = argv
	return true
}

// iface reads an interface name, to be looked for on this host.
func (a attrs) iface(name string, dst *string) bool {
	if !a.str(name, dst) {
		return false
	}
	a.d.interfaces = append(a.d.interfaces, located{a.rng(name), *dst})
	return true
}

// ints reads a list of whole numbers, each within [lo, hi].
func (a attrs) ints(name string, lo, hi int, dst *[]int) bool {
	return eachOf(a, name, cty.Number, dst, func(e hcl.Expression, v cty.Value) (int, bool) {
		var n int64
		if !v.AsBigFloat().IsInt() || gocty.FromCtyValue(v, &n) != nil || n < int64(lo) || n > int64(hi) {
			a.d.errorf(e.Range(), name+" out of range", "%s is not a whole number within %d..%d", v.AsBigFloat().String(), lo, hi)
			return 0, false
		}
		return int(n), true
	})
}

// addr reads an IP address.
func (a attrs) addr(name string, dst *netip.Addr) bool {
	var s string
	if !a.str(name, &s) {
		return false
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		a.d.errorf(a.rng(name), "Invalid "+name, "%q is not an IP address", s)
		return false
	}
	*dst = ip
	return true
}

// addrs reads a list of IP addresses.
func (a attrs) addrs(name string, dst *[]netip.Addr) bool {
	return eachString(a, name, dst, func(s string) (netip.Addr, error) {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return ip, fmt.Errorf("%q is not an IP address", s)
		}
		return ip, nil
	})
}

// prefixes reads a list of addresses with optional prefix length
// ("192.0.2.100/24"; a bare address is a host prefix).
func (a attrs) prefixes(name string, dst *[]netip.Prefix) bool {
	return eachString(a, name, dst, ParseVIP)
}

// ParseVIP reads a virtual IP as lvsd writes it: an address, or an
// address/prefix-length; a bare address is a host prefix. It is exported
// for the keepalived importer, which must read addresses as lvsd will.
func ParseVIP(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or address/prefix-length", s)
		}
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("%q is not an IP address or address/prefix-length", s)
	}
	return p, nil
}

// eachString parses each string of a list attribute, pointing each error
// at its element.
func eachString[T any](a attrs, name string, dst *[]T, parse func(string) (T, error)) bool {
	return eachOf(a, name, cty.String, dst, func(e hcl.Expression, v cty.Value) (T, bool) {
		t, err := parse(v.AsString())
		if err != nil {
			a.d.errorf(e.Range(), "Invalid "+name, "%s", err)
		}
		return t, err == nil
	})
}

// eachOf evaluates each element of a list attribute as ty and converts it
// with conv, which reports its own errors. dst is set only when every
// element is good; every bad one is reported.
func eachOf[T any](a attrs, name string, ty cty.Type, dst *[]T, conv func(hcl.Expression, cty.Value) (T, bool)) bool {
	exprs, ok := a.list(name)
	if !ok {
		return false
	}
	out := make([]T, 0, len(exprs))
	good := true
	for _, e := range exprs {
		v, ok := a.d.eval(e, ty, name)
		if !ok {
			good = false
			continue
		}
		t, ok := conv(e, v)
		if !ok {
			good = false
			continue
		}
		out = append(out, t)
	}
	if good {
		*dst = out
	}
	return good
}

// oneOf reads a string that must be one of choices.
func (a attrs) oneOf(name string, dst *string, choices ...string) bool {
	var s string
	if !a.str(name, &s) {
		return false
	}
	for _, c := range choices {
		if s == c {
			*dst = s
			return true
		}
	}
	a.d.errorf(a.rng(name), "Invalid "+name, "%q is not one of %s", s, strings.Join(choices, ", "))
	return false
}
