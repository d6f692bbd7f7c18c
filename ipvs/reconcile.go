package ipvs

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
)

// Reconciler converges a Kernel's table to a desired one by difference. It
// holds no copy of the table: every Apply reads the kernel first, so it
// adopts whatever it finds (at start, after another tool or a crash) and
// never flushes. The kernel table belongs to it: services nobody desires
// are deleted. Safe for concurrent use; applies are serialized.
type Reconciler struct {
	kernel Kernel
	mu     sync.Mutex
}

// NewReconciler returns a Reconciler for k.
func NewReconciler(k Kernel) *Reconciler { return &Reconciler{kernel: k} }

// Apply makes the kernel's table equal to desired with the fewest
// operations, in the order Diff gives, and returns those it applied. An
// operation that fails does not stop the others; the errors are returned
// joined. The destinations of a service that cannot be created are skipped.
// A restart with an unchanged desired table applies nothing, so no
// established connection notices it.
func (r *Reconciler) Apply(desired []Entry) ([]Op, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	current, err := r.kernel.Services()
	if err != nil {
		return nil, fmt.Errorf("ipvs: read the kernel's table: %w", err)
	}
	ops, err := Diff(current, desired)
	if err != nil {
		return nil, err
	}
	var applied []Op
	var errs []error
	failed := map[ServiceKey]bool{}
	for _, op := range ops {
		if failed[op.Service.Key()] {
			continue
		}
		if err := r.do(op); err != nil {
			errs = append(errs, err)
			if op.Kind == OpCreateService {
				failed[op.Service.Key()] = true
			}
			continue
		}
		applied = append(applied, op)
	}
	return applied, errors.Join(errs...)
}

// ApplyTimeouts sets the non-zero timeouts of want that differ from the
// kernel's, and returns the operation if there was one.
func (r *Reconciler) ApplyTimeouts(want Timeouts) ([]Op, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, err := r.kernel.Timeouts()
	if err != nil {
		return nil, fmt.Errorf("ipvs: read timeouts: %w", err)
	}
	cs := timeoutChanges(cur, want)
	if len(cs) == 0 {
		return nil, nil
	}
	op := Op{Kind: OpSetTimeouts, Timeouts: want, Changes: cs}
	if err := r.do(op); err != nil {
		return nil, err
	}
	return []Op{op}, nil
}

func (r *Reconciler) do(op Op) error {
	k := r.kernel
	switch op.Kind {
	case OpCreateService:
		return k.CreateService(op.Service)
	case OpUpdateService:
		return k.UpdateService(op.Service)
	case OpDeleteService:
		return k.DeleteService(op.Service)
	case OpCreateDestination:
		return k.CreateDestination(op.Service, op.Destination)
	case OpUpdateDestination:
		return k.UpdateDestination(op.Service, op.Destination)
	case OpDeleteDestination:
		return k.DeleteDestination(op.Service, op.Destination)
	case OpSetTimeouts:
		return k.SetTimeouts(op.Timeouts)
	}
	return fmt.Errorf("ipvs: unknown operation %s", op.Kind)
}

// Diff returns the fewest operations that turn current into desired, in a
// fixed order:
//
//  1. delete-service for services not desired, by key (the kernel drops
//     their destinations with them);
//  2. then, for each desired service by key: create-service or
//     update-service (scheduler, flags, persistence or netmask changed; never
//     delete and add, which would drop its connections), then its
//     destinations, each by address: creates, then updates (weight,
//     forwarding, thresholds), then deletes.
//
// Creates before deletes keep a service from being empty, even for a
// moment, when its servers are swapped (sorry server in, real servers out).
// It fails on a desired table with a service or a destination twice.
func Diff(current, desired []Entry) ([]Op, error) {
	cur, err := index(current)
	if err != nil {
		return nil, fmt.Errorf("ipvs: kernel table: %w", err)
	}
	want, err := index(desired)
	if err != nil {
		return nil, fmt.Errorf("ipvs: desired table: %w", err)
	}
	var ops []Op
	for _, k := range slices.SortedFunc(maps.Keys(cur), ServiceKey.Compare) {
		if _, ok := want[k]; !ok {
			ops = append(ops, Op{Kind: OpDeleteService, Service: cur[k].svc})
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(want), ServiceKey.Compare) {
		w := want[k]
		c, ok := cur[k]
		if !ok {
			ops = append(ops, Op{Kind: OpCreateService, Service: w.svc})
			for _, d := range sortedDests(w.dests) {
				ops = append(ops, Op{Kind: OpCreateDestination, Service: w.svc, Destination: d})
			}
			continue
		}
		if cs := serviceChanges(c.svc, w.svc); len(cs) > 0 {
			ops = append(ops, Op{Kind: OpUpdateService, Service: w.svc, Changes: cs})
		}
		var creates, updates, deletes []Op
		for _, d := range sortedDests(w.dests) {
			old, ok := c.dests[d.Key()]
			if !ok {
				creates = append(creates, Op{Kind: OpCreateDestination, Service: w.svc, Destination: d})
			} else if cs := destinationChanges(old, d); len(cs) > 0 {
				updates = append(updates, Op{Kind: OpUpdateDestination, Service: w.svc, Destination: d, Changes: cs})
			}
		}
		for _, d := range sortedDests(c.dests) {
			if _, ok := w.dests[d.Key()]; !ok {
				deletes = append(deletes, Op{Kind: OpDeleteDestination, Service: w.svc, Destination: d})
			}
		}
		ops = slices.Concat(ops, creates, updates, deletes)
	}
	return ops, nil
}

type indexed struct {
	svc   Service
	dests map[netip.AddrPort]Destination
}

func index(entries []Entry) (map[ServiceKey]indexed, error) {
	m := make(map[ServiceKey]indexed, len(entries))
	for _, e := range entries {
		k := e.Service.Key()
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("service %s twice", k)
		}
		in := indexed{svc: e.Service, dests: make(map[netip.AddrPort]Destination, len(e.Destinations))}
		for _, d := range e.Destinations {
			if _, dup := in.dests[d.Key()]; dup {
				return nil, fmt.Errorf("destination %s twice in service %s", d, k)
			}
			in.dests[d.Key()] = d
		}
		m[k] = in
	}
	return m, nil
}
