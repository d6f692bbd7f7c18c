package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// pipeListener accepts the server ends of net.Pipe pairs, after failing
// emfile times with EMFILE as accept(2) does when the daemon is out of
// descriptors.
type pipeListener struct {
	conns   chan net.Conn
	closed  chan struct{}
	emfile  int
	accepts atomic.Int32

	closeOnce sync.Once
}

func newPipeListener(emfile int) *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{}), emfile: emfile}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	l.accepts.Add(1)
	if l.emfile > 0 {
		l.emfile--
		return nil, &net.OpError{Op: "accept", Net: "unix", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "unix"} }

// dial connects a client to l.
func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

// ask sends req on c and reads the reply.
func ask(c net.Conn, req Request) (*Reply, error) {
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return nil, err
	}
	var reply Reply
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&reply); err != nil {
		return nil, err
	}
	return &reply, nil
}

// closed tells whether the server has closed c, reading whatever it sent
// before; an open connection is one that times out.
func closed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := io.ReadAll(c)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func startServe(t *testing.T, l net.Listener, h Handler, lim limits) {
	done := make(chan struct{})
	go func() { serveWith(t.Context(), l, h, quiet, lim); close(done) }()
	t.Cleanup(func() { l.Close(); <-done })
}

// An accept that fails with EMFILE is retried with a doubling backoff
// (5 ms up to 1 s) and the socket answers once descriptors are free again:
// before, the loop ended on the first error and never answered again.
func TestServeRetriesAcceptOnEMFILE(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const failures = 20
		l := newPipeListener(failures)
		start := time.Now()
		startServe(t, l, &fakeDaemon{}, defaultLimits)
		c := l.dial()
		defer c.Close()
		took := time.Since(start)
		reply, err := ask(c, Request{Command: CmdStatus})
		if err != nil || reply.Status == nil || reply.Status.RouterID != "dir-a" {
			t.Fatalf("status after %d EMFILEs: %+v, %v", failures, reply, err)
		}
		// 5+10+20+40+80+160+320+640 ms, then 12 × 1 s.
		if want := 1275*time.Millisecond + 12*time.Second; took != want {
			t.Errorf("accepted after %s of backoff, want %s", took, want)
		}
		synctest.Wait()
		if n := l.accepts.Load(); n != failures+2 { // the next one waits
			t.Errorf("%d accepts, want %d", n, failures+2)
		}
	})
}

// Idle connections over the cap evict the oldest idle one, so a flood of
// them holds at most the cap and never keeps a status request out; an
// idle connection is closed when its request wait ends.
func TestServeEvictsIdleConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := limits{maxConns: 4, requestWait: 5 * time.Second, exchange: time.Minute}
		l := newPipeListener(0)
		startServe(t, l, &fakeDaemon{}, lim)
		start := time.Now()
		var idle []net.Conn
		for range 10 {
			idle = append(idle, l.dial())
		}
		synctest.Wait()
		for i, c := range idle {
			if got, want := closed(c), i < 6; got != want {
				t.Errorf("idle connection %d closed: %v, want %v", i, got, want)
			}
		}
		c := l.dial()
		reply, err := ask(c, Request{Command: CmdStatus})
		if err != nil || reply.Status == nil {
			t.Fatalf("status with the cap held by idle connections: %+v, %v", reply, err)
		}
		c.Close()
		if !closed(idle[6]) {
			t.Error("the status request did not evict the oldest idle connection")
		}
		time.Sleep(time.Until(start.Add(lim.requestWait - 10*time.Millisecond)))
		synctest.Wait()
		if closed(idle[9]) {
			t.Error("an idle connection was closed before its request wait ended")
		}
		time.Sleep(time.Until(start.Add(lim.requestWait)))
		synctest.Wait()
		for i, c := range idle[7:] {
			if !closed(c) {
				t.Errorf("idle connection %d still open after the request wait", 7+i)
			}
		}
	})
}

// blockingDrill answers drills only when released.
type blockingDrill struct {
	fakeDaemon
	release chan struct{}
}

func (b *blockingDrill) Drill(instance string, hold time.Duration) (*DrillReport, error) {
	<-b.release
	return &DrillReport{Instance: instance}, nil
}

// With every slot busy answering, a new connection is closed at once;
// the slots serve again when the answers are sent.
func TestServeRefusesWhenEverySlotIsBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := limits{maxConns: 2, requestWait: 5 * time.Second, exchange: time.Minute}
		l := newPipeListener(0)
		h := &blockingDrill{release: make(chan struct{})}
		startServe(t, l, h, lim)
		drills := make(chan error, lim.maxConns)
		for range lim.maxConns {
			c := l.dial()
			defer c.Close()
			go func() { _, err := ask(c, Request{Command: CmdDrill, Instance: "VI_1", Hold: "0s"}); drills <- err }()
		}
		synctest.Wait()
		over := l.dial()
		synctest.Wait()
		if !closed(over) {
			t.Error("a connection over the cap of busy ones was not closed at once")
		}
		close(h.release)
		for range lim.maxConns {
			if err := <-drills; err != nil {
				t.Errorf("drill: %v", err)
			}
		}
		synctest.Wait() // the handlers give their slots back after the reply is read
		c := l.dial()
		defer c.Close()
		if reply, err := ask(c, Request{Command: CmdStatus}); err != nil || reply.Status == nil {
			t.Errorf("status once the drills were answered: %+v, %v", reply, err)
		}
	})
}

// A connection evicted while its request line arrived does not run it:
// its client saw the close and may well ask again (a drill twice).
func TestEvictedRequestDoesNotRun(t *testing.T) {
	s := &connSet{max: 1}
	a, b := net.Pipe()
	defer b.Close()
	first, _, ok := s.admit(a)
	if !ok {
		t.Fatal("the first connection was refused")
	}
	c, d := net.Pipe()
	defer d.Close()
	second, evicted, ok := s.admit(c)
	if !ok || !evicted {
		t.Fatalf("the second connection: admitted %t, evicted the first %t", ok, evicted)
	}
	if s.busy(first) {
		t.Error("the evicted connection's request would run")
	}
	if !s.busy(second) {
		t.Error("the admitted connection's request would not run")
	}
}
