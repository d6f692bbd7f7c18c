package sync

import (
	"errors"
	"fmt"
	"net/netip"
)

// MarshalBinary encodes m as the kernel's master daemon would
// (ip_vs_sync_conn): options in the order sequence data, persistence
// engine data, persistence engine name, then Options; each entry after
// the first padded to 32 bits. lvsd sends no sync traffic itself; this
// exists for tests, fuzzing and tools.
func (m Message) MarshalBinary() ([]byte, error) {
	if len(m.Conns) > 255 {
		return nil, fmt.Errorf("sync message: %d entries, at most 255", len(m.Conns))
	}
	b := []byte{0, m.SyncID, 0, 0, uint8(len(m.Conns)), syncProtoVer, 0, 0}
	for i, c := range m.Conns {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		var err error
		if b, err = appendConn(b, c); err != nil {
			return nil, fmt.Errorf("sync message: entry %d: %w", i, err)
		}
	}
	if len(b) > 0xffff {
		return nil, fmt.Errorf("sync message: %d bytes, at most 65535", len(b))
	}
	be.PutUint16(b[2:], uint16(len(b)))
	return b, nil
}

func appendConn(b []byte, c Conn) ([]byte, error) {
	v6 := c.Virtual.Addr().Is6()
	for _, a := range []struct {
		name string
		v    bool
	}{{"client", c.Client.Addr().Is6()}, {"destination", c.Dest.Addr().Is6()}} {
		if a.v != v6 {
			return nil, fmt.Errorf("%s and virtual addresses of different families", a.name)
		}
	}
	if !c.Client.Addr().IsValid() || !c.Virtual.Addr().IsValid() || !c.Dest.Addr().IsValid() {
		return nil, errors.New("an address is missing")
	}
	start := len(b)
	typ := uint8(0)
	if v6 {
		typ = stypeFInet6
	}
	b = append(b, typ, c.Protocol, 0, 0) // ver_size is set below
	b = be.AppendUint32(b, c.Flags)
	b = be.AppendUint16(b, c.State)
	b = be.AppendUint16(b, c.Client.Port())
	b = be.AppendUint16(b, c.Virtual.Port())
	b = be.AppendUint16(b, c.Dest.Port())
	b = be.AppendUint32(b, c.FWMark)
	b = be.AppendUint32(b, c.Timeout)
	for _, ap := range []netip.AddrPort{c.Client, c.Virtual, c.Dest} {
		if v6 {
			a := ap.Addr().As16()
			b = append(b, a[:]...)
		} else {
			a := ap.Addr().As4()
			b = append(b, a[:]...)
		}
	}
	opt := func(t uint8, data []byte) error {
		if len(data) == 0 || len(data) > 255 {
			return fmt.Errorf("option %d of %d bytes, want 1 to 255", t, len(data))
		}
		b = append(append(b, t, uint8(len(data))), data...)
		return nil
	}
	if s := c.Seq; s != nil {
		var d []byte
		for _, q := range []Seq{s.In, s.Out} {
			d = be.AppendUint32(d, q.InitSeq)
			d = be.AppendUint32(d, q.Delta)
			d = be.AppendUint32(d, q.PreviousDelta)
		}
		if err := opt(optSeqData, d); err != nil {
			return nil, err
		}
	}
	if c.PEData != nil {
		if err := opt(optPEData, c.PEData); err != nil {
			return nil, err
		}
	}
	if c.PEName != "" {
		if len(c.PEName) > peNameMax {
			return nil, fmt.Errorf("persistence engine name %q longer than %d bytes", c.PEName, peNameMax)
		}
		if err := opt(optPEName, []byte(c.PEName)); err != nil {
			return nil, err
		}
	}
	for _, o := range c.Options {
		switch o.Type &^ optFParam {
		case optSeqData, optPEData, optPEName:
			return nil, fmt.Errorf("option %d belongs in its own field", o.Type)
		}
		if err := opt(o.Type, o.Data); err != nil {
			return nil, err
		}
	}
	size := len(b) - start
	if size > sverMask {
		return nil, fmt.Errorf("entry of %d bytes, at most %d", size, sverMask)
	}
	be.PutUint16(b[start+2:], uint16(size))
	return b, nil
}
