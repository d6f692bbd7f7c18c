package ipvs

import (
	"fmt"
	"strconv"
	"strings"
)

// OpKind is one kind of change to the kernel's table.
type OpKind uint8

const (
	OpCreateService OpKind = iota + 1
	OpUpdateService
	OpDeleteService
	OpCreateDestination
	OpUpdateDestination
	OpDeleteDestination
	OpSetTimeouts
)

var opNames = map[OpKind]string{
	OpCreateService: "create-service", OpUpdateService: "update-service", OpDeleteService: "delete-service",
	OpCreateDestination: "create-destination", OpUpdateDestination: "update-destination", OpDeleteDestination: "delete-destination",
	OpSetTimeouts: "set-timeouts",
}

func (k OpKind) String() string {
	if s, ok := opNames[k]; ok {
		return s
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// Change is one attribute an update changes.
type Change struct {
	Field, From, To string
}

func (c Change) String() string { return c.Field + " " + c.From + "→" + c.To }

// Op is one operation on the kernel's table, as the Reconciler applies it
// and the Fake records it. Its String is the log line:
//
//	create-service tcp 192.0.2.100:80 scheduler=wlc persistence=300s netmask=/24
//	update-service tcp 192.0.2.100:80 scheduler wlc→rr
//	delete-service fwmark 10/inet
//	create-destination tcp 192.0.2.100:80 198.51.100.21:80 nat weight=3
//	update-destination tcp 192.0.2.100:80 198.51.100.21:80 weight 3→0
//	delete-destination tcp 192.0.2.100:80 198.51.100.21:80
//	set-timeouts tcp 900s→3600s
type Op struct {
	Kind        OpKind
	Service     Service     // as desired; as found for deletes
	Destination Destination // destination ops only
	Timeouts    Timeouts    // set-timeouts only
	Changes     []Change    // updates only: what differs, in a fixed order
}

func (o Op) String() string {
	var b strings.Builder
	b.WriteString(o.Kind.String())
	if o.Kind != OpSetTimeouts {
		b.WriteString(" " + o.Service.String())
	}
	switch o.Kind {
	case OpCreateService:
		s := o.Service
		fmt.Fprintf(&b, " scheduler=%s", s.Scheduler)
		if f := s.Flags & schedFlagMask; f != 0 {
			fmt.Fprintf(&b, " flags=%s", FlagNames(s.Scheduler, f))
		}
		if s.Persistence > 0 {
			fmt.Fprintf(&b, " persistence=%s netmask=%s", persistenceString(s), netmaskString(s))
		}
	case OpCreateDestination:
		d := o.Destination
		fmt.Fprintf(&b, " %s %s weight=%d", d, d.Forwarding, d.Weight)
		if d.UpperThreshold != 0 || d.LowerThreshold != 0 {
			fmt.Fprintf(&b, " upper=%d lower=%d", d.UpperThreshold, d.LowerThreshold)
		}
	case OpUpdateDestination, OpDeleteDestination:
		b.WriteString(" " + o.Destination.String())
	}
	for i, c := range o.Changes {
		if i == 0 {
			b.WriteString(" ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// serviceChanges lists what an update from old (as read from the kernel)
// to s (as desired) changes. The netmask matters only with persistence, so
// it is compared only when either side is persistent.
func serviceChanges(old, s Service) []Change {
	var cs []Change
	if old.Scheduler != s.Scheduler {
		cs = append(cs, Change{"scheduler", old.Scheduler, s.Scheduler})
	}
	of, nf := old.Flags&^(FlagHashed|FlagPersistent), s.Flags&schedFlagMask
	if of != nf {
		cs = append(cs, Change{"flags", FlagNames(old.Scheduler, of), FlagNames(s.Scheduler, nf)})
	}
	op, np := ceilSeconds(old.Persistence), ceilSeconds(s.Persistence)
	if op != np {
		cs = append(cs, Change{"persistence", persistenceString(old), persistenceString(s)})
	}
	if (op > 0 || np > 0) && maskBits(old) != maskBits(s) {
		cs = append(cs, Change{"netmask", netmaskString(old), netmaskString(s)})
	}
	return cs
}

// destinationChanges lists what an update from old to d changes.
func destinationChanges(old, d Destination) []Change {
	var cs []Change
	num := func(field string, a, b int64) {
		if a != b {
			cs = append(cs, Change{field, strconv.FormatInt(a, 10), strconv.FormatInt(b, 10)})
		}
	}
	num("weight", int64(old.Weight), int64(d.Weight))
	if old.Forwarding != d.Forwarding {
		cs = append(cs, Change{"forwarding", old.Forwarding.String(), d.Forwarding.String()})
	}
	num("upper", int64(old.UpperThreshold), int64(d.UpperThreshold))
	num("lower", int64(old.LowerThreshold), int64(d.LowerThreshold))
	return cs
}

// timeoutChanges lists the non-zero timeouts of want that differ from old.
func timeoutChanges(old, want Timeouts) []Change {
	var cs []Change
	for _, t := range []struct {
		field     string
		old, want int64
	}{
		{"tcp", ceilSeconds(old.TCP), ceilSeconds(want.TCP)},
		{"tcp_fin", ceilSeconds(old.TCPFin), ceilSeconds(want.TCPFin)},
		{"udp", ceilSeconds(old.UDP), ceilSeconds(want.UDP)},
	} {
		if t.want != 0 && t.want != t.old {
			cs = append(cs, Change{t.field, fmt.Sprintf("%ds", t.old), fmt.Sprintf("%ds", t.want)})
		}
	}
	return cs
}

// maskBits is the prefix length the kernel holds or will hold for s.
func maskBits(s Service) int {
	if s.PersistenceBits != 0 {
		return s.PersistenceBits
	}
	if s.family6() {
		return 128
	}
	return 32
}

func netmaskString(s Service) string { return "/" + strconv.Itoa(maskBits(s)) }

func persistenceString(s Service) string {
	if s.Persistence <= 0 {
		return "off"
	}
	return seconds(s.Persistence)
}
