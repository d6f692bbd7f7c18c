package sync

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Observe joins cfg.Group (defaults filled in) on cfg.Interface and
// returns an Observer of the sync ports; call Run to count. The sockets
// belong to the calling thread's network namespace.
//
// The kernel's sync threads use one port each, cfg.Port up to
// cfg.Port + sync_ports - 1 (sysctl net.ipv4.vs.sync_ports, read now, as
// the kernel reads it when its daemons start); the observer listens on
// all of them. Each socket binds like the kernel's backup daemon
// (make_receive_sock in ip_vs_sync.c): to the group and port, on the
// interface, with address reuse, which the kernel's socket also sets
// (SK_CAN_REUSE), so the two coexist and each gets every datagram.
func Observe(cfg Config) (*Observer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sync: observe: %w", err)
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("sync: observe on %q: %w: %v", cfg.Interface, ErrNoInterface, err)
	}
	ports := syncPorts()
	if int(cfg.Port)+ports-1 > 65535 {
		return nil, fmt.Errorf("sync: observe: port %d with sync_ports %d passes 65535", cfg.Port, ports)
	}
	var conns []net.PacketConn
	for i := range ports {
		pc, err := listenGroup(cfg, ifi, cfg.Port+uint16(i))
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, err
		}
		conns = append(conns, pc)
	}
	return newObserver(cfg, conns...), nil
}

// syncPorts is the namespace's sysctl net.ipv4.vs.sync_ports: 1 without
// IPVS or when unreadable.
func syncPorts() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/vs/sync_ports")
	if err != nil {
		return 1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// listenGroup opens one socket on the group and port, joined on ifi.
func listenGroup(cfg Config, ifi *net.Interface, port uint16) (net.PacketConn, error) {
	network, group := "udp4", cfg.Group
	if group.Is6() {
		// The zone scopes a link-local group (ff02::, ff32:...); the kernel
		// ignores it for wider scopes.
		network, group = "udp6", group.WithZone(ifi.Name)
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = sockopts(int(fd), ifi.Name, cfg.Group.Is6())
		})
		if err != nil {
			return err
		}
		return serr
	}}
	addr := net.JoinHostPort(group.String(), strconv.Itoa(int(port)))
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		return nil, fmt.Errorf("sync: observe: listen on %s: %w", addr, err)
	}
	udpGroup := &net.UDPAddr{IP: net.IP(cfg.Group.AsSlice())}
	if cfg.Group.Is6() {
		err = ipv6.NewPacketConn(pc).JoinGroup(ifi, udpGroup)
	} else {
		err = ipv4.NewPacketConn(pc).JoinGroup(ifi, udpGroup)
	}
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("sync: observe: join %s on %s: %w", cfg.Group, ifi.Name, err)
	}
	return pc, nil
}

// sockopts prepares the observer's socket before bind.
func sockopts(fd int, ifname string, v6 bool) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	// Only this interface's traffic, as the kernel's sk_bound_dev_if.
	if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); err != nil {
		return fmt.Errorf("SO_BINDTODEVICE %s: %w", ifname, err)
	}
	// Only the groups this socket joined: by default Linux hands a socket
	// the traffic of every group any socket of the host joined.
	if v6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0); err != nil {
			return fmt.Errorf("IPV6_MULTICAST_ALL: %w", err)
		}
	} else if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0); err != nil {
		return fmt.Errorf("IP_MULTICAST_ALL: %w", err)
	}
	return nil
}
