package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
)

// httpLimits bound what a client of metrics_listen can hold of the
// daemon: the port is open to every local user (and to the network on a
// wider address), so idle connections must not pile up until the daemon
// is out of descriptors (issue 10, finding 1).
type httpLimits struct {
	maxConns   int           // open at once; more are closed at once
	readHeader time.Duration // a new connection sends its request headers within this
	read       time.Duration // the whole request
	write      time.Duration // the whole answer
	idle       time.Duration // a kept-alive connection waits this long for its next request
}

// A scrape is one small GET answered in milliseconds; Prometheus keeps
// one connection per target.
var defaultHTTPLimits = httpLimits{
	maxConns: 64, readHeader: 5 * time.Second, read: 10 * time.Second, write: 10 * time.Second, idle: 30 * time.Second,
}

// serveMetrics serves /metrics on addr, under g, until ctx ends.
func (d *Daemon) serveMetrics(ctx context.Context, g *errgroup.Group, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics_listen %s: %w", addr, err)
	}
	reg := prometheus.NewRegistry()
	capped := newCapListener(l, defaultHTTPLimits.maxConns, d.log)
	for _, c := range []prometheus.Collector{metrics{d}, capped} {
		if err := reg.Register(c); err != nil {
			l.Close()
			return err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	serveHTTP(ctx, g, capped, mux, defaultHTTPLimits, d.log)
	d.log.Info("metrics", "listen", l.Addr().String())
	return nil
}

// serveHTTP serves h on l, under g, until ctx ends. net/http's own accept
// loop backs off and retries on a temporary error (EMFILE, ENFILE), which
// capListener passes through as it is.
func serveHTTP(ctx context.Context, g *errgroup.Group, l net.Listener, h http.Handler, lim httpLimits, log *slog.Logger) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    16 << 10, // a scrape's headers are a few hundred bytes
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	g.Go(func() error {
		<-ctx.Done()
		return srv.Close()
	})
	g.Go(func() error {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics", "err", err)
		}
		return nil
	})
}

// capListener holds at most max connections open: one over the cap is
// closed as soon as it is accepted, counted, and logged at most once a
// minute. It is a Collector of its own counts.
type capListener struct {
	net.Listener
	log *slog.Logger
	max int

	mu      sync.Mutex
	open    int
	refused uint64
	logged  time.Time
}

func newCapListener(l net.Listener, max int, log *slog.Logger) *capListener {
	return &capListener{Listener: l, max: max, log: log}
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.take() {
			return &cappedConn{Conn: c, l: l}, nil
		}
		c.Close()
	}
}

// take takes a slot, or counts a refusal.
func (l *capListener) take() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open < l.max {
		l.open++
		return true
	}
	l.refused++
	if now := time.Now(); now.Sub(l.logged) >= time.Minute {
		l.logged = now
		l.log.Warn("metrics: connection cap reached; new connections closed", "max", l.max, "refused", l.refused)
	}
	return false
}

func (l *capListener) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
}

func (l *capListener) counts() (open int, refused uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.refused
}

var (
	mHTTPOpen    = desc("metrics_connections_open", "Connections open to metrics_listen.")
	mHTTPRefused = desc("metrics_connections_refused_total", "Connections to metrics_listen closed at once: the cap was reached.")
)

func (l *capListener) Describe(ch chan<- *prometheus.Desc) {
	ch <- mHTTPOpen
	ch <- mHTTPRefused
}

func (l *capListener) Collect(ch chan<- prometheus.Metric) {
	open, refused := l.counts()
	ch <- prometheus.MustNewConstMetric(mHTTPOpen, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(mHTTPRefused, prometheus.CounterValue, float64(refused))
}

// cappedConn gives its slot back when closed, once.
type cappedConn struct {
	net.Conn
	l    *capListener
	once sync.Once
}

func (c *cappedConn) Close() error {
	c.once.Do(c.l.release)
	return c.Conn.Close()
}
