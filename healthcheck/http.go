package healthcheck

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaxBody bounds how much of a response body a check reads: a digest of
// a longer body fails the check, a regex sees only its first MaxBody bytes.
const MaxBody = 1 << 20

// httpChecker sends one HTTP/1.1 request on a connection of its own and
// judges the response by status, body regex and body digest.
//
// It speaks HTTP over the connection itself (a request rendered once by
// Request.Write, the answer parsed by ReadResponse) rather than through an
// http.Client: the connection and its deadline are then ours, so every
// phase, from dial to the last body byte, ends at the check's deadline;
// nothing is pooled between checks; and the reason can name the phase
// that failed.
type httpChecker struct {
	target netip.AddrPort
	dial   dialer
	cfg    HTTPCheck
	tls    *tls.Config   // nil: plain HTTP
	req    *http.Request // what ReadResponse needs to know of the request (HEAD or not)
	wire   []byte        // the request as sent, rendered once: it never changes
}

func newHTTPChecker(target netip.AddrPort, cfg Config) (*httpChecker, error) {
	h := cfg.HTTP
	if h.Method == "" {
		h.Method = http.MethodGet
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Digest != "" {
		if b, err := hex.DecodeString(h.Digest); err != nil || len(b) != md5.Size {
			return nil, fmt.Errorf("http check of %s: digest %q is not an md5 in hex", target, h.Digest)
		}
		h.Digest = strings.ToLower(h.Digest)
	}
	scheme := "http"
	if h.TLS {
		scheme = "https"
	}
	u, err := url.Parse(scheme + "://" + target.String() + h.Path)
	if err != nil {
		return nil, fmt.Errorf("http check of %s: path %q: %w", target, h.Path, err)
	}
	c := &httpChecker{target: target, dial: newDialer(cfg.SourceIP), cfg: h}
	c.req = &http.Request{
		Method:     h.Method,
		URL:        u,
		Host:       h.Host, // empty: the URL's, the server's address
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"User-Agent": {"lvsd-healthcheck"}},
		Close:      true, // one request per connection, and the server knows it
	}
	var wire bytes.Buffer
	if err := c.req.Write(&wire); err != nil {
		return nil, fmt.Errorf("http check of %s: request: %w", target, err)
	}
	c.wire = wire.Bytes()
	if h.TLS {
		c.tls = &tls.Config{
			// The name verified and sent as SNI is the Host header's, as a
			// browser reaching the virtual service would send; without a
			// host, the certificate must name the server's address.
			ServerName:         serverName(h.Host, target.Addr()),
			InsecureSkipVerify: !h.TLSVerify, // tls_verify = false: the user accepts any certificate
		}
	}
	return c, nil
}

// serverName is the host part of a Host header ("www.example.org:8443" →
// "www.example.org"), or addr when there is none.
func serverName(host string, addr netip.Addr) string {
	if host == "" {
		return addr.WithZone("").String()
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

func (c *httpChecker) Check(ctx context.Context) Result {
	clk := startClock(ctx)
	conn, release, err := c.dial.dial(ctx, "tcp", c.target)
	if err != nil {
		return clk.failed(ctx, "connecting", err)
	}
	defer release()
	if c.tls != nil {
		tc := tls.Client(conn, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return clk.failed(ctx, "in TLS handshake", err)
		}
		conn = tc
	}

	if _, err := conn.Write(c.wire); err != nil {
		return clk.failed(ctx, "writing request", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), c.req)
	if err != nil {
		return clk.failed(ctx, "reading response", err)
	}
	defer resp.Body.Close()
	if !c.statusOK(resp.StatusCode) {
		return clk.down(nil, "HTTP %d, want %s", resp.StatusCode, c.wantStatus())
	}

	// The body is read even when nothing inspects it, as keepalived does:
	// a server that cannot finish a response within the timeout is not
	// healthy, whatever its status line said.
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return clk.failed(ctx, "reading body", err)
	}
	if len(body) > MaxBody {
		if c.cfg.Digest != "" {
			return clk.down(nil, "body larger than %d bytes, cannot check its digest", MaxBody)
		}
		body = body[:MaxBody]
	}
	if re := c.cfg.BodyRegex; re != nil && !re.Match(body) {
		return clk.down(nil, "body does not match %q", re.String())
	}
	if c.cfg.Digest != "" {
		sum := md5.Sum(body)
		if got := hex.EncodeToString(sum[:]); got != c.cfg.Digest {
			return clk.down(nil, "body md5 %s, want %s", got, c.cfg.Digest)
		}
	}
	return clk.up("HTTP " + strconv.Itoa(resp.StatusCode))
}

func (c *httpChecker) statusOK(code int) bool {
	if len(c.cfg.Status) == 0 {
		return code >= 200 && code <= 299
	}
	return slices.Contains(c.cfg.Status, code)
}

// wantStatus phrases the accepted statuses: "2xx", "200", "200 or 204".
func (c *httpChecker) wantStatus() string {
	s := c.cfg.Status
	switch len(s) {
	case 0:
		return "2xx"
	case 1:
		return strconv.Itoa(s[0])
	}
	parts := make([]string, len(s))
	for i, code := range s {
		parts[i] = strconv.Itoa(code)
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}
