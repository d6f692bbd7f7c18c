package control

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Limits bound what clients of the control socket can hold of the daemon:
// the socket is root's, but a stuck or careless client (a script that
// connects and never writes, a loop of connections) must not take its
// file descriptors or lock the operator out.
type limits struct {
	maxConns    int           // connections open at once
	requestWait time.Duration // to send the request line after connecting
	exchange    time.Duration // for the whole exchange: a drill waits for the takeover
}

var defaultLimits = limits{maxConns: 32, requestWait: 5 * time.Second, exchange: 2 * time.Minute}

// Accept backoff: an accept that fails (EMFILE, ENFILE, ECONNABORTED, …)
// is retried after a delay that doubles up to a second, as net/http does,
// so a daemon short of descriptors answers again once they are freed
// instead of never again.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
	logEvery         = time.Minute // a repeated complaint is logged at most this often
)

// acceptLoop hands each connection of l to serve until l is closed or ctx
// ends. It never ends on any other error: it backs off and retries.
func acceptLoop(ctx context.Context, l net.Listener, log *slog.Logger, serve func(net.Conn)) {
	var (
		delay    time.Duration
		failures int
		logged   time.Time
	)
	for {
		c, err := l.Accept()
		if err == nil {
			if failures > 0 {
				log.Info("control socket accepting again", "failed_accepts", failures)
				failures, delay = 0, 0
			}
			serve(c)
			continue
		}
		if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
			return
		}
		failures++
		if now := time.Now(); failures == 1 || now.Sub(logged) >= logEvery {
			log.Error("control socket: accept failed; retrying", "err", err, "failed_accepts", failures)
			logged = now
		}
		delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// connSet is the open connections of the control socket, at most max. A
// connection that has not sent its whole request line yet is waiting: a
// new connection over the cap evicts the oldest waiting one, so idle
// connections can never keep `lvsd status` out; only when every slot is
// busy answering (drills) is the new one closed at once.
type connSet struct {
	mu      sync.Mutex
	max     int
	open    int
	waiting []*trackedConn // oldest first
	evicted uint64
	refused uint64
}

// trackedConn gives its slot back when closed, once.
type trackedConn struct {
	net.Conn
	set     *connSet
	once    sync.Once
	evicted bool // under set.mu: its slot went to a newer connection
}

func (t *trackedConn) Close() error {
	t.once.Do(func() { t.set.release(t) })
	return t.Conn.Close()
}

// admit takes a slot for c, evicting the oldest waiting connection if
// there is none free (then evicted is true); false: every slot is busy
// and c must be refused.
func (s *connSet) admit(c net.Conn) (t *trackedConn, evicted, ok bool) {
	for {
		s.mu.Lock()
		if s.open < s.max {
			s.open++
			t = &trackedConn{Conn: c, set: s}
			s.waiting = append(s.waiting, t)
			s.mu.Unlock()
			return t, evicted, true
		}
		if len(s.waiting) == 0 {
			s.refused++
			s.mu.Unlock()
			return nil, evicted, false
		}
		victim := s.waiting[0]
		s.waiting = s.waiting[1:]
		victim.evicted = true
		s.evicted++
		s.mu.Unlock()
		evicted = true
		victim.Close() // its handler's read fails; the slot is free now
	}
}

// busy marks t as answering once it has sent its request; false: it was
// evicted meanwhile, and its request must not run (its client saw the
// connection close and may well ask again).
func (s *connSet) busy(t *trackedConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unwait(t)
	return !t.evicted
}

func (s *connSet) release(t *trackedConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open--
	s.unwait(t)
}

// unwait removes t from the waiting list; s.mu is held.
func (s *connSet) unwait(t *trackedConn) {
	for i, w := range s.waiting {
		if w == t {
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			return
		}
	}
}

func (s *connSet) counts() (open int, evicted, refused uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open, s.evicted, s.refused
}
