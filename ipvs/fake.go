package ipvs

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Fake is an in-memory Kernel that answers like the real one (EEXIST for
// duplicates, ESRCH for a missing service, ENOENT for a missing destination
// or an unknown scheduler, stored values rounded as the kernel rounds them)
// and records every change it is asked for, so tests can assert the exact
// operations. Reads are not recorded. It is safe for concurrent use.
type Fake struct {
	// Fail, if set, is asked before each change; a non-nil error is
	// returned (through the same errno mapping as the kernel's) instead of
	// applying the change. The Op is recorded either way.
	Fail func(Op) error

	mu       sync.Mutex
	services map[ServiceKey]*fakeService
	timeouts Timeouts
	ops      []Op
}

type fakeService struct {
	svc   Service
	dests map[netip.AddrPort]Destination
}

var (
	_ Kernel      = (*Fake)(nil)
	_ StatsReader = (*Fake)(nil)
)

// NewFake returns a Fake holding entries, as if another tool or an earlier
// run had made them, and the kernel's default timeouts. Nothing is recorded.
// It panics on entries the kernel would refuse: they are test bugs.
func NewFake(entries ...Entry) *Fake {
	f := &Fake{
		services: map[ServiceKey]*fakeService{},
		timeouts: Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second},
	}
	for _, e := range entries {
		if err := f.createService(e.Service); err != nil {
			panic(fmt.Sprintf("NewFake: %v", err))
		}
		for _, d := range e.Destinations {
			if err := f.createDestination(e.Service, d); err != nil {
				panic(fmt.Sprintf("NewFake: %v", err))
			}
		}
	}
	return f
}

// Ops returns the changes recorded so far.
func (f *Fake) Ops() []Op {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ops)
}

// TakeOps returns the changes recorded so far and forgets them.
func (f *Fake) TakeOps() []Op {
	f.mu.Lock()
	defer f.mu.Unlock()
	ops := f.ops
	f.ops = nil
	return ops
}

func (f *Fake) Services() ([]Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Entry
	for _, k := range f.sortedKeys() {
		fs := f.services[k]
		out = append(out, Entry{Service: fs.svc, Destinations: sortedDests(fs.dests)})
	}
	return out, nil
}

// Stats reports every counter as zero: nothing flows through a Fake.
func (f *Fake) Stats() ([]ServiceStats, error) {
	entries, _ := f.Services()
	out := make([]ServiceStats, len(entries))
	for i, e := range entries {
		out[i].Service = e.Service
		for _, d := range e.Destinations {
			out[i].Destinations = append(out[i].Destinations, DestinationStats{Destination: d})
		}
	}
	return out, nil
}

func (f *Fake) CreateService(s Service) error {
	return f.change(Op{Kind: OpCreateService, Service: s}, nil, func() error { return f.createService(s) })
}

func (f *Fake) UpdateService(s Service) error {
	changes := func() []Change {
		if fs, ok := f.services[s.Key()]; ok {
			return serviceChanges(fs.svc, s)
		}
		return nil
	}
	return f.change(Op{Kind: OpUpdateService, Service: s}, changes, func() error {
		fs, ok := f.services[s.Key()]
		if !ok {
			return syscall.ESRCH
		}
		if !KnownScheduler(s.Scheduler) {
			return syscall.ENOENT
		}
		v, err := kernelView(s)
		if err != nil {
			return err
		}
		fs.svc = v
		return nil
	})
}

func (f *Fake) DeleteService(s Service) error {
	return f.change(Op{Kind: OpDeleteService, Service: s}, nil, func() error {
		if _, ok := f.services[s.Key()]; !ok {
			return syscall.ESRCH
		}
		delete(f.services, s.Key())
		return nil
	})
}

func (f *Fake) CreateDestination(s Service, d Destination) error {
	return f.change(Op{Kind: OpCreateDestination, Service: s, Destination: d}, nil, func() error { return f.createDestination(s, d) })
}

func (f *Fake) UpdateDestination(s Service, d Destination) error {
	changes := func() []Change {
		if fs, ok := f.services[s.Key()]; ok {
			if old, ok := fs.dests[d.Key()]; ok {
				return destinationChanges(old, d)
			}
		}
		return nil
	}
	return f.change(Op{Kind: OpUpdateDestination, Service: s, Destination: d}, changes, func() error {
		fs, ok := f.services[s.Key()]
		if !ok {
			return syscall.ESRCH
		}
		if _, ok := fs.dests[d.Key()]; !ok {
			return syscall.ENOENT
		}
		if err := checkDestination(fs.svc, d); err != nil {
			return err
		}
		fs.dests[d.Key()] = storedDest(d)
		return nil
	})
}

func (f *Fake) DeleteDestination(s Service, d Destination) error {
	return f.change(Op{Kind: OpDeleteDestination, Service: s, Destination: d}, nil, func() error {
		fs, ok := f.services[s.Key()]
		if !ok {
			return syscall.ESRCH
		}
		if _, ok := fs.dests[d.Key()]; !ok {
			return syscall.ENOENT
		}
		delete(fs.dests, d.Key())
		return nil
	})
}

func (f *Fake) Timeouts() (Timeouts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.timeouts, nil
}

func (f *Fake) SetTimeouts(t Timeouts) error {
	changes := func() []Change { return timeoutChanges(f.timeouts, t) }
	return f.change(Op{Kind: OpSetTimeouts, Timeouts: t}, changes, func() error {
		// Like the kernel: zero leaves a value alone; it keeps seconds.
		for _, p := range []struct{ dst, src *time.Duration }{
			{&f.timeouts.TCP, &t.TCP}, {&f.timeouts.TCPFin, &t.TCPFin}, {&f.timeouts.UDP, &t.UDP},
		} {
			if *p.src > 0 {
				*p.dst = time.Duration(ceilSeconds(*p.src)) * time.Second
			}
		}
		return nil
	})
}

// change records op, with the changes it makes to the current state if
// changes is set, then applies it unless Fail refuses; all under the lock.
func (f *Fake) change(op Op, changes func() []Change, apply func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if changes != nil {
		op.Changes = changes()
	}
	f.ops = append(f.ops, op)
	var err error
	if f.Fail != nil {
		err = f.Fail(op)
	}
	if err == nil {
		err = apply()
	}
	if err != nil {
		return opError(op, err)
	}
	return nil
}

// createService and createDestination expect f.mu held (or f unshared).
func (f *Fake) createService(s Service) error {
	if _, ok := f.services[s.Key()]; ok {
		return syscall.EEXIST
	}
	if !KnownScheduler(s.Scheduler) {
		return syscall.ENOENT
	}
	if s.FWMark == 0 && (!s.Address.IsValid() || s.Protocol == 0) {
		return fmt.Errorf("service %s has neither an address and protocol nor an fwmark: %w", s, syscall.EINVAL)
	}
	v, err := kernelView(s)
	if err != nil {
		return err
	}
	f.services[s.Key()] = &fakeService{svc: v, dests: map[netip.AddrPort]Destination{}}
	return nil
}

func (f *Fake) createDestination(s Service, d Destination) error {
	fs, ok := f.services[s.Key()]
	if !ok {
		return syscall.ESRCH
	}
	if _, ok := fs.dests[d.Key()]; ok {
		return syscall.EEXIST
	}
	if err := checkDestination(fs.svc, d); err != nil {
		return err
	}
	fs.dests[d.Key()] = storedDest(d)
	return nil
}

// storedDest is d as the kernel reports it back.
func storedDest(d Destination) Destination {
	d.Address = d.Address.Unmap()
	return d
}

func (f *Fake) sortedKeys() []ServiceKey {
	return slices.SortedFunc(maps.Keys(f.services), ServiceKey.Compare)
}

func sortedDests(m map[netip.AddrPort]Destination) []Destination {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b Destination) int { return a.Key().Compare(b.Key()) })
	return out
}
