package healthcheck

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serve starts a loopback HTTP server answering status and body.
func serve(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func httpCfg(h HTTPCheck) Config {
	if h.Method == "" {
		h.Method = "GET"
	}
	if h.Path == "" {
		h.Path = "/healthz"
	}
	return Config{Kind: HTTP, HTTP: h}
}

func checkHTTP(t *testing.T, srv *httptest.Server, h HTTPCheck) Result {
	t.Helper()
	return runCheck(t, mustChecker(t, addrOf(t, srv.Listener.Addr()), httpCfg(h), nil))
}

func TestHTTPStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		served int
		want   []int
		up     bool
		reason string
	}{
		{"any 2xx", 204, nil, true, "HTTP 204"},
		{"not 2xx", 301, nil, false, "HTTP 301, want 2xx"},
		{"listed", 200, []int{200}, true, "HTTP 200"},
		{"mismatch", 503, []int{200}, false, "HTTP 503, want 200"},
		{"mismatch of several", 500, []int{200, 204, 302}, false, "HTTP 500, want 200, 204 or 302"},
		{"non-2xx listed", 404, []int{404}, true, "HTTP 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkHTTP(t, serve(t, tc.served, "ok"), HTTPCheck{Status: tc.want})
			if tc.up {
				wantUp(t, r, tc.reason)
			} else {
				wantDown(t, r, tc.reason)
			}
		})
	}
}

func TestHTTPBodyRegex(t *testing.T) {
	re := regexp.MustCompile(`^ok\b`)
	wantUp(t, checkHTTP(t, serve(t, 200, "ok all good"), HTTPCheck{BodyRegex: re}), "HTTP 200")
	wantDown(t, checkHTTP(t, serve(t, 200, "degraded"), HTTPCheck{BodyRegex: re}), `body does not match "^ok\\b"`)
}

func TestHTTPDigest(t *testing.T) {
	const body = "<html>healthy</html>\n"
	sum := md5.Sum([]byte(body))
	want := hex.EncodeToString(sum[:])
	srv := serve(t, 200, body)
	wantUp(t, checkHTTP(t, srv, HTTPCheck{Digest: want}), "HTTP 200")
	// conf lowercases digests; the checker accepts upper case as well.
	wantUp(t, checkHTTP(t, srv, HTTPCheck{Digest: strings.ToUpper(want)}), "HTTP 200")

	other := md5.Sum([]byte("something else"))
	otherHex := hex.EncodeToString(other[:])
	wantDown(t, checkHTTP(t, srv, HTTPCheck{Digest: otherHex}), "body md5 "+want+", want "+otherHex)
}

func TestHTTPBodyTooLargeForDigest(t *testing.T) {
	srv := serve(t, 200, strings.Repeat("x", MaxBody+1))
	sum := md5.Sum(nil)
	wantDown(t, checkHTTP(t, srv, HTTPCheck{Digest: hex.EncodeToString(sum[:])}), "body larger than 1048576 bytes, cannot check its digest")
	// Without a digest, the first MaxBody bytes are enough.
	wantUp(t, checkHTTP(t, srv, HTTPCheck{BodyRegex: regexp.MustCompile(`^x+$`)}), "HTTP 200")
}

// The request carries method, path, query and Host, and asks to close.
func TestHTTPRequest(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
	}))
	defer srv.Close()
	wantUp(t, checkHTTP(t, srv, HTTPCheck{Method: "HEAD", Path: "/status?full=1", Host: "www.example.org"}), "HTTP 200")
	r := <-got
	if r.Method != "HEAD" || r.URL.String() != "/status?full=1" || r.Host != "www.example.org" || !r.Close {
		t.Errorf("request %s %s Host %q close %v; want HEAD /status?full=1 Host www.example.org close true", r.Method, r.URL, r.Host, r.Close)
	}
}

// A check opens a connection of its own each time: a server that keeps
// connections alive does not see them reused.
func TestHTTPFreshConnection(t *testing.T) {
	conns := make(chan string, 4)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conns <- r.RemoteAddr
	}))
	srv.Start()
	defer srv.Close()
	c := mustChecker(t, addrOf(t, srv.Listener.Addr()), httpCfg(HTTPCheck{}), nil)
	wantUp(t, runCheck(t, c), "HTTP 200")
	wantUp(t, runCheck(t, c), "HTTP 200")
	if a, b := <-conns, <-conns; a == b {
		t.Errorf("both checks came from %s: connection reused", a)
	}
}

func TestHTTPTLSVerify(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	defer srv.Close()
	// httptest's certificate is signed by a CA no system trusts.
	r := checkHTTP(t, srv, HTTPCheck{TLS: true, TLSVerify: true})
	wantDownPrefix(t, r, "in TLS handshake: ")
	if !strings.Contains(r.Reason, "certificate") {
		t.Errorf("reason %q does not mention the certificate", r.Reason)
	}
	wantUp(t, checkHTTP(t, srv, HTTPCheck{TLS: true, TLSVerify: false}), "HTTP 200")
}

// The Host header is also the TLS server name (SNI), with its port removed.
func TestHTTPTLSHostAndSNI(t *testing.T) {
	type seen struct{ host, sni string }
	got := make(chan seen, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Host, r.TLS.ServerName}
	}))
	defer srv.Close()
	wantUp(t, checkHTTP(t, srv, HTTPCheck{TLS: true, Host: "www.example.org:8443"}), "HTTP 200")
	if s := <-got; s.host != "www.example.org:8443" || s.sni != "www.example.org" {
		t.Errorf("Host %q, SNI %q; want www.example.org:8443, www.example.org", s.host, s.sni)
	}
}

// rawServer accepts connections and hands each, with its request read, to
// handle.
func rawServer(t *testing.T, handle func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				handle(c)
			}()
		}
	}()
	return ln
}

// A server that sends its headers, then its body a byte a second, fails
// at the timeout: the deadline covers the body, not just the headers.
func TestHTTPTricklingBody(t *testing.T) {
	ln := rawServer(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
		for range 100 {
			if _, err := c.Write([]byte("o")); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	})
	r := runCheckWithin(t, mustChecker(t, addrOf(t, ln.Addr()), httpCfg(HTTPCheck{}), nil), shortTimeout)
	wantDown(t, r, "timeout after 300ms reading body")
}

// A server that accepts and never answers fails at the timeout too.
func TestHTTPSilentServer(t *testing.T) {
	ln := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	r := runCheckWithin(t, mustChecker(t, addrOf(t, ln.Addr()), httpCfg(HTTPCheck{}), nil), shortTimeout)
	wantDown(t, r, "timeout after 300ms reading response")
}

// A TLS server that never completes the handshake is bounded the same way.
func TestHTTPSilentTLSServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(io.Discard, c) }()
		}
	}()
	r := runCheckWithin(t, mustChecker(t, addrOf(t, ln.Addr()), httpCfg(HTTPCheck{TLS: true}), nil), shortTimeout)
	wantDown(t, r, "timeout after 300ms in TLS handshake")
}

func TestHTTPMalformedAndClosed(t *testing.T) {
	garbage := rawServer(t, func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH\r\n") })
	r := runCheck(t, mustChecker(t, addrOf(t, garbage.Addr()), httpCfg(HTTPCheck{}), nil))
	wantDown(t, r, `reading response: malformed HTTP response "SSH-2.0-OpenSSH"`)

	short := rawServer(t, func(c net.Conn) { io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok") })
	r = runCheck(t, mustChecker(t, addrOf(t, short.Addr()), httpCfg(HTTPCheck{}), nil))
	wantDown(t, r, "reading body: connection closed early")

	wantDown(t, runCheck(t, mustChecker(t, closedPort(t), httpCfg(HTTPCheck{}), nil)), "connect: connection refused")
}
