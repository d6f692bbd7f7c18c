package ipvs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"syscall"
	"time"
)

// Kernel is the IPVS table of one network namespace, in the model's types.
// Netlink is the real one, Fake the one for tests. Reads return services
// and destinations sorted by key, with the kernel's own bookkeeping (the
// HASHED flag) masked out.
type Kernel interface {
	// Services lists every service with its destinations.
	Services() ([]Entry, error)
	CreateService(Service) error
	// UpdateService sets scheduler, flags and persistence of an existing
	// service in place; its destinations and connections stay.
	UpdateService(Service) error
	// DeleteService removes a service and, with it, its destinations.
	DeleteService(Service) error
	CreateDestination(Service, Destination) error
	// UpdateDestination sets weight, forwarding and thresholds in place.
	UpdateDestination(Service, Destination) error
	DeleteDestination(Service, Destination) error
	// Timeouts returns the namespace's connection timeouts.
	Timeouts() (Timeouts, error)
	// SetTimeouts sets the non-zero ones.
	SetTimeouts(Timeouts) error
}

// StatsReader is the optional part of a Kernel that reports counters, for
// `lvsd ipvs --stats` and `--rate`.
type StatsReader interface {
	Stats() ([]ServiceStats, error)
}

// Counters are the kernel's statistics of a service or destination: totals
// since creation, and rates estimated over the last seconds. Linux 6.1
// folds its per-CPU counters into these from the 2 s rate estimator, so
// they can lag traffic by that much.
type Counters struct {
	Conns, PacketsIn, PacketsOut, BytesIn, BytesOut uint64
	CPS, PPSIn, PPSOut, BPSIn, BPSOut               uint64
}

// ServiceStats is a service with its counters and its destinations'.
type ServiceStats struct {
	Service      Service
	Counters     Counters
	Destinations []DestinationStats
}

// DestinationStats is a destination with its connection counts and counters.
type DestinationStats struct {
	Destination   Destination
	ActiveConns   int
	InactiveConns int
	Counters      Counters
}

// ErrNoIPVS means the running kernel has no IPVS: the ip_vs module is not
// loaded (and lvsd does not load it) or not built.
var ErrNoIPVS = errors.New("the kernel has no IPVS")

// wire is what lvsd sends for a service: exactly the flags it means
// (persistent iff persistence is set, plus the scheduler flags; never
// HASHED or anything found in the kernel), the persistence timeout in
// seconds, and the client netmask as a prefix length.
type wire struct {
	flags   Flags
	timeout uint32
	bits    int
}

func wireOf(s Service) (wire, error) {
	full := 32
	if s.family6() {
		full = 128
	}
	w := wire{flags: s.Flags & schedFlagMask, bits: s.PersistenceBits}
	if w.bits == 0 {
		w.bits = full // unset: one client, the kernel's default
	}
	if w.bits < 0 || w.bits > full {
		return w, fmt.Errorf("persistence netmask /%d is not a prefix length of %s: %w", s.PersistenceBits, s, syscall.EINVAL)
	}
	secs := ceilSeconds(s.Persistence)
	if secs > math.MaxUint32 {
		return w, fmt.Errorf("persistence %s of %s exceeds the kernel's range: %w", s.Persistence, s, syscall.EINVAL)
	}
	if secs > 0 {
		w.flags |= FlagPersistent
		w.timeout = uint32(secs)
	}
	return w, nil
}

// kernelView is what the kernel reports for a service created or updated
// with s: the round trip of wireOf. The Fake stores it.
func kernelView(s Service) (Service, error) {
	w, err := wireOf(s)
	if err != nil {
		return Service{}, err
	}
	k := s.Key()
	v := Service{
		FWMark: k.FWMark, IPv6: k.IPv6, Protocol: k.Protocol,
		Address: k.Addr.Addr(), Port: k.Addr.Port(),
		Scheduler:       s.Scheduler,
		Flags:           w.flags &^ FlagPersistent,
		PersistenceBits: w.bits,
	}
	if w.flags&FlagPersistent != 0 {
		v.Persistence = time.Duration(w.timeout) * time.Second
	}
	return v, nil
}

// checkDestination refuses what moby/ipvs cannot express: it sends no
// destination family, so the kernel takes the service's.
func checkDestination(s Service, d Destination) error {
	if !d.Address.IsValid() {
		return fmt.Errorf("destination of %s has no address: %w", s, syscall.EINVAL)
	}
	if d.Address.Unmap().Is6() != s.family6() {
		return fmt.Errorf("destination %s is not of the family of %s: %w", d, s, syscall.EINVAL)
	}
	if d.Weight < 0 || d.Weight > math.MaxInt32 {
		return fmt.Errorf("destination %s weight %d out of range: %w", d, d.Weight, syscall.EINVAL)
	}
	return nil
}

// kernelError is the kernel's answer to one operation, made errors.Is-able
// against the os package's sentinels. IPVS answers ESRCH for a missing
// service, which syscall.Errno does not map to os.ErrNotExist.
type kernelError struct {
	err  error // wraps the errno
	kind error // os.ErrNotExist, os.ErrExist, os.ErrPermission or nil
	hint string
}

func (e *kernelError) Error() string {
	if e.hint == "" {
		return e.err.Error()
	}
	return e.err.Error() + " (" + e.hint + ")"
}

func (e *kernelError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.err, e.kind}
}

// mapErr adds to an errno from the kernel the os sentinel it means and a
// hint that fits the operation; errors without an errno pass unchanged.
func mapErr(kind OpKind, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	e := &kernelError{err: err}
	switch errno {
	case syscall.ESRCH:
		e.kind, e.hint = os.ErrNotExist, "no such service"
	case syscall.ENOENT:
		e.kind = os.ErrNotExist
		switch kind {
		case OpCreateService, OpUpdateService:
			e.hint = "scheduler not available in this kernel?"
		case OpUpdateDestination, OpDeleteDestination:
			e.hint = "no such destination"
		}
	case syscall.EEXIST:
		e.kind, e.hint = os.ErrExist, "already exists"
	case syscall.EPERM, syscall.EACCES:
		e.kind, e.hint = os.ErrPermission, "IPVS needs CAP_NET_ADMIN: run as root or grant the capability"
	}
	return e
}

// opError wraps the kernel's answer to op with what was asked, e.g.
// "create-destination tcp 192.0.2.100:80 198.51.100.21:80: file exists (already exists)".
func opError(op Op, err error) error {
	target := op.Service.String()
	switch op.Kind {
	case OpCreateDestination, OpUpdateDestination, OpDeleteDestination:
		target += " " + op.Destination.String()
	case OpSetTimeouts:
		target = op.Timeouts.String()
	}
	return fmt.Errorf("%s %s: %w", op.Kind, target, mapErr(op.Kind, err))
}
