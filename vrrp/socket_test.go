package vrrp_test

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsd/lvsd/vrrp"
	"github.com/lvsd/lvsd/vrrp/vrrptest"
)

// receiver records what a socket hands one VRID.
type receiver struct {
	mu      sync.Mutex
	packets []vrrp.Packet
	faults  []fault
}

type fault struct {
	at  time.Time
	err error
}

func (r *receiver) Deliver(p vrrp.Packet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.packets = append(r.packets, p)
}

func (r *receiver) SocketFault(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, fault{time.Now(), err})
}

func (r *receiver) got() (int, []fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.packets), append([]fault(nil), r.faults...)
}

// sockets opens a served socket on host a's eth0 and a sender on b's.
func sockets(t *testing.T) (a, b *vrrptest.Host, sa *vrrp.Socket, send func(vrid uint8)) {
	a, b = pair()
	open := func(h *vrrptest.Host) *vrrp.Socket {
		s, err := vrrp.NewSocket("eth0", false, func() (vrrp.Conn, error) { return h.OpenConn("eth0", false) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		go s.Serve(nil)
		return s
	}
	sa, sb := open(a), open(b)
	src := netip.MustParseAddr("192.0.2.12")
	send = func(vrid uint8) {
		tr := sb.Transport(src, nil)
		if err := tr.Send(&vrrp.Advert{Version: vrrp.V3, VRID: vrid, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{vip1.Addr()}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
	}
	return a, b, sa, send
}

// Packets go to the instance of their VRID; others are counted.
func TestSocketDispatchesByVRID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, sa, send := sockets(t)
		r := &receiver{}
		if err := sa.Register(51, r, true); err != nil {
			t.Fatal(err)
		}
		if err := sa.Register(51, &receiver{}, true); err == nil || !strings.Contains(err.Error(), "VRID 51 already runs on eth0") {
			t.Errorf("second VRID 51: %v", err)
		}
		send(51)
		send(52)
		if n, _ := r.got(); n != 1 || sa.Unknown.Load() != 1 {
			t.Errorf("VRID 51 got %d packets, %d unknown; want 1 and 1", n, sa.Unknown.Load())
		}
		sa.Unregister(51)
		send(51)
		if n, _ := r.got(); n != 1 || sa.Unknown.Load() != 2 {
			t.Errorf("after Unregister: VRID 51 got %d packets, %d unknown; want 1 and 2", n, sa.Unknown.Load())
		}
	})
}

// A socket that cannot read faults its receivers at once, reopens 1, 2,
// 4 s … later (a read that still fails faults them again at once), and
// lifts the fault at the first reopen after it reads again.
func TestSocketDeafFaultsUntilReopen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, _, sa, send := sockets(t)
		r := &receiver{}
		if err := sa.Register(51, r, true); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		a.SetDeaf("eth0", true)
		time.Sleep(5 * time.Second) // reopens at 1 s and 3 s
		a.SetDeaf("eth0", false)
		time.Sleep(20 * time.Second) // the reopen at 7 s reads
		_, faults := r.got()
		var got []string
		for _, f := range faults {
			state := "fault"
			if f.err == nil {
				state = "clear"
			}
			got = append(got, f.at.Sub(start).String()+" "+state)
		}
		want := []string{"0s fault", "1s clear", "1s fault", "3s clear", "3s fault", "7s clear"}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("faults %q, want %q", got, want)
		}
		if faults[0].err == nil || !strings.Contains(faults[0].err.Error(), "vrrp: read on eth0") {
			t.Errorf("first fault %v, want the read error", faults[0].err)
		}
		if n := sa.Reopens.Load(); n != 3 {
			t.Errorf("%d reopens, want 3", n)
		}
		send(51) // it hears again, on the group it joined before
		if n, _ := r.got(); n != 1 {
			t.Errorf("%d packets after the reopen, want 1", n)
		}
	})
}

// An interface deleted and created again: Refresh reopens the socket on
// the new link, which it hears again; an unchanged one is left alone.
func TestSocketRefreshOnRecreatedInterface(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, _, sa, send := sockets(t)
		r := &receiver{}
		if err := sa.Register(51, r, true); err != nil {
			t.Fatal(err)
		}
		if reopened, err := sa.Refresh(); reopened || err != nil {
			t.Errorf("Refresh of an unchanged interface: %t, %v", reopened, err)
		}
		a.Recreate("eth0")
		send(51)
		if n, _ := r.got(); n != 0 {
			t.Errorf("the old socket heard %d packets on the new link", n)
		}
		if reopened, err := sa.Refresh(); !reopened || err != nil {
			t.Fatalf("Refresh of a recreated interface: %t, %v", reopened, err)
		}
		send(51)
		if n, faults := r.got(); n != 1 || len(faults) != 0 {
			t.Errorf("after the reopen: %d packets, faults %v; want 1 and none", n, faults)
		}
	})
}
