package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	moby "github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
)

// procIPVS exists once the ip_vs module is loaded (in every namespace).
const procIPVS = "/proc/net/ip_vs"

// Netlink is the kernel's IPVS table in one network namespace, over
// generic netlink (moby/ipvs).
type Netlink struct {
	ns string
	mu sync.Mutex // a moby handle is one socket: one request at a time
	h  *moby.Handle
}

var (
	_ Kernel      = (*Netlink)(nil)
	_ StatsReader = (*Netlink)(nil)
)

// Open connects to the IPVS table of the network namespace at netnsPath
// ("" = the caller's). It fails with ErrNoIPVS when the kernel has no IPVS,
// and with os.ErrPermission without CAP_NET_ADMIN.
//
// moby/ipvs runs "modprobe ip_vs" when first used and looks the netlink
// family up only once per process; Open checks first, so that modprobe is
// only ever a no-op and the lookup cannot be spoiled by an absent module.
func Open(netnsPath string) (*Netlink, error) {
	if err := CheckIPVS(); err != nil {
		return nil, err
	}
	where := "this network namespace"
	if netnsPath != "" {
		where = "network namespace " + netnsPath
	}
	h, err := moby.New(netnsPath)
	if err != nil {
		return nil, fmt.Errorf("ipvs: open %s: %w", where, mapErr(0, err))
	}
	// A first request proves the family and the permission now, not at the
	// first change.
	if _, err := h.GetConfig(); err != nil {
		h.Close()
		return nil, fmt.Errorf("ipvs: read %s: %w", where, mapErr(0, err))
	}
	return &Netlink{ns: netnsPath, h: h}, nil
}

// CheckIPVS returns an error wrapping ErrNoIPVS unless the kernel has IPVS
// loaded. It loads nothing.
func CheckIPVS() error {
	if _, err := os.Stat(procIPVS); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s is absent: load the ip_vs module (modprobe ip_vs) or use a kernel built with IPVS", ErrNoIPVS, procIPVS)
	} else if err != nil {
		return fmt.Errorf("ipvs: %w", err)
	}
	if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
		return fmt.Errorf("%w: no generic netlink family IPVS: %v", ErrNoIPVS, err)
	}
	return nil
}

// Close releases the netlink socket.
func (n *Netlink) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.h != nil {
		n.h.Close()
		n.h = nil
	}
	return nil
}

func (n *Netlink) Services() ([]Entry, error) {
	st, err := n.read()
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(st))
	for i, s := range st {
		out[i].Service = s.Service
		for _, d := range s.Destinations {
			out[i].Destinations = append(out[i].Destinations, d.Destination)
		}
	}
	return out, nil
}

func (n *Netlink) Stats() ([]ServiceStats, error) { return n.read() }

// read dumps services, then each one's destinations, sorted by key.
func (n *Netlink) read() ([]ServiceStats, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	svcs, err := n.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("ipvs: list services: %w", mapErr(0, err))
	}
	out := make([]ServiceStats, 0, len(svcs))
	for _, ms := range svcs {
		s, err := fromMobyService(ms)
		if err != nil {
			return nil, err
		}
		dsts, err := n.h.GetDestinations(ms)
		if errors.Is(err, syscall.ESRCH) {
			continue // deleted by someone else since the dump
		} else if err != nil {
			return nil, fmt.Errorf("ipvs: list destinations of %s: %w", s, mapErr(0, err))
		}
		ss := ServiceStats{Service: s, Counters: counters(moby.SvcStats(ms.Stats))}
		for _, md := range dsts {
			d, err := fromMobyDestination(md)
			if err != nil {
				return nil, fmt.Errorf("ipvs: destination of %s: %w", s, err)
			}
			ss.Destinations = append(ss.Destinations, DestinationStats{
				Destination: d, ActiveConns: md.ActiveConnections, InactiveConns: md.InactiveConnections,
				Counters: counters(moby.SvcStats(md.Stats)),
			})
		}
		slices.SortFunc(ss.Destinations, func(a, b DestinationStats) int {
			return a.Destination.Key().Compare(b.Destination.Key())
		})
		out = append(out, ss)
	}
	slices.SortFunc(out, func(a, b ServiceStats) int { return a.Service.Key().Compare(b.Service.Key()) })
	return out, nil
}

func (n *Netlink) CreateService(s Service) error {
	return n.service(Op{Kind: OpCreateService, Service: s}, (*moby.Handle).NewService)
}

func (n *Netlink) UpdateService(s Service) error {
	return n.service(Op{Kind: OpUpdateService, Service: s}, (*moby.Handle).UpdateService)
}

func (n *Netlink) DeleteService(s Service) error {
	return n.service(Op{Kind: OpDeleteService, Service: s}, (*moby.Handle).DelService)
}

func (n *Netlink) CreateDestination(s Service, d Destination) error {
	return n.destination(Op{Kind: OpCreateDestination, Service: s, Destination: d}, (*moby.Handle).NewDestination)
}

func (n *Netlink) UpdateDestination(s Service, d Destination) error {
	return n.destination(Op{Kind: OpUpdateDestination, Service: s, Destination: d}, (*moby.Handle).UpdateDestination)
}

func (n *Netlink) DeleteDestination(s Service, d Destination) error {
	return n.destination(Op{Kind: OpDeleteDestination, Service: s, Destination: d}, (*moby.Handle).DelDestination)
}

func (n *Netlink) service(op Op, call func(*moby.Handle, *moby.Service) error) error {
	ms, err := toMobyService(op.Service)
	if err != nil {
		return opError(op, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := call(n.h, ms); err != nil {
		return opError(op, err)
	}
	return nil
}

func (n *Netlink) destination(op Op, call func(*moby.Handle, *moby.Service, *moby.Destination) error) error {
	ms, err := toMobyService(op.Service)
	if err == nil {
		err = checkDestination(op.Service, op.Destination)
	}
	if err != nil {
		return opError(op, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := call(n.h, ms, toMobyDestination(op.Destination)); err != nil {
		return opError(op, err)
	}
	return nil
}

func (n *Netlink) Timeouts() (Timeouts, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, err := n.h.GetConfig()
	if err != nil {
		return Timeouts{}, fmt.Errorf("ipvs: read timeouts: %w", mapErr(0, err))
	}
	return Timeouts{TCP: c.TimeoutTCP, TCPFin: c.TimeoutTCPFin, UDP: c.TimeoutUDP}, nil
}

func (n *Netlink) SetTimeouts(t Timeouts) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	// Whole seconds, rounded up so that a short timeout does not become 0
	// ("leave alone").
	c := &moby.Config{
		TimeoutTCP:    time.Duration(ceilSeconds(t.TCP)) * time.Second,
		TimeoutTCPFin: time.Duration(ceilSeconds(t.TCPFin)) * time.Second,
		TimeoutUDP:    time.Duration(ceilSeconds(t.UDP)) * time.Second,
	}
	if err := n.h.SetConfig(c); err != nil {
		return opError(Op{Kind: OpSetTimeouts, Timeouts: t}, err)
	}
	return nil
}

// toMobyService builds the request for s: the flags lvsd means (moby sends
// them with an all-ones mask, so they replace the kernel's) and the
// netmask as the kernel reads it.
func toMobyService(s Service) (*moby.Service, error) {
	w, err := wireOf(s)
	if err != nil {
		return nil, err
	}
	k := s.Key()
	ms := &moby.Service{
		AddressFamily: syscall.AF_INET,
		SchedName:     s.Scheduler,
		Flags:         uint32(w.flags),
		Timeout:       w.timeout,
		Netmask:       netmaskOf(w.bits, k.IPv6),
	}
	if k.IPv6 {
		ms.AddressFamily = syscall.AF_INET6
	}
	if k.FWMark != 0 {
		ms.FWMark = k.FWMark
		return ms, nil
	}
	if !k.Addr.Addr().IsValid() {
		return nil, fmt.Errorf("service %s has neither an address nor an fwmark: %w", s, syscall.EINVAL)
	}
	ms.Address = net.IP(k.Addr.Addr().AsSlice())
	ms.Port = k.Addr.Port()
	ms.Protocol = uint16(k.Protocol)
	return ms, nil
}

// netmaskOf encodes a prefix length the way the kernel reads
// IPVS_SVC_ATTR_NETMASK: for IPv4 a mask in network byte order (nla_get_be32);
// for IPv6 the prefix length itself. moby writes the value in host order,
// so the IPv4 mask is passed as the host-order reading of its bytes.
func netmaskOf(bits int, v6 bool) uint32 {
	if v6 {
		return uint32(bits)
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], ^uint32(0)<<(32-bits))
	return binary.NativeEndian.Uint32(b[:])
}

// prefixOf is the inverse of netmaskOf; a non-contiguous IPv4 mask (set by
// another tool) counts its leading ones.
func prefixOf(netmask uint32, v6 bool) int {
	if v6 {
		return int(netmask)
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], netmask)
	return bits.LeadingZeros32(^binary.BigEndian.Uint32(b[:]))
}

// fromMobyService is what the kernel holds, in the model: HASHED, the
// kernel's bookkeeping, is masked; the persistent flag becomes Persistence.
func fromMobyService(ms *moby.Service) (Service, error) {
	v6 := ms.AddressFamily == syscall.AF_INET6
	s := Service{FWMark: ms.FWMark, IPv6: v6, Scheduler: ms.SchedName, PersistenceBits: prefixOf(ms.Netmask, v6)}
	if ms.FWMark == 0 {
		a, ok := netip.AddrFromSlice(ms.Address)
		if !ok {
			return s, fmt.Errorf("ipvs: service with unreadable address %v", ms.Address)
		}
		if !v6 {
			a = a.Unmap()
		}
		s.Address, s.Port, s.Protocol = a, ms.Port, Protocol(ms.Protocol)
	}
	f := Flags(ms.Flags) &^ FlagHashed
	if f&FlagPersistent != 0 {
		s.Persistence = time.Duration(ms.Timeout) * time.Second
	}
	s.Flags = f &^ FlagPersistent
	return s, nil
}

func toMobyDestination(d Destination) *moby.Destination {
	a := d.Address.Unmap()
	md := &moby.Destination{
		AddressFamily:   syscall.AF_INET,
		Address:         net.IP(a.AsSlice()),
		Port:            d.Port,
		Weight:          d.Weight,
		ConnectionFlags: uint32(d.Forwarding),
		UpperThreshold:  d.UpperThreshold,
		LowerThreshold:  d.LowerThreshold,
	}
	if a.Is6() {
		md.AddressFamily = syscall.AF_INET6
	}
	return md
}

func fromMobyDestination(md *moby.Destination) (Destination, error) {
	a, ok := netip.AddrFromSlice(md.Address)
	if !ok {
		return Destination{}, fmt.Errorf("unreadable address %v", md.Address)
	}
	if md.AddressFamily != syscall.AF_INET6 {
		a = a.Unmap()
	}
	return Destination{
		Address:        a,
		Port:           md.Port,
		Weight:         md.Weight,
		Forwarding:     Forwarding(md.ConnectionFlags & moby.ConnFwdMask),
		UpperThreshold: md.UpperThreshold,
		LowerThreshold: md.LowerThreshold,
	}, nil
}

func counters(s moby.SvcStats) Counters {
	return Counters{
		Conns: uint64(s.Connections), PacketsIn: uint64(s.PacketsIn), PacketsOut: uint64(s.PacketsOut),
		BytesIn: s.BytesIn, BytesOut: s.BytesOut,
		CPS: uint64(s.CPS), PPSIn: uint64(s.PPSIn), PPSOut: uint64(s.PPSOut), BPSIn: uint64(s.BPSIn), BPSOut: uint64(s.BPSOut),
	}
}
