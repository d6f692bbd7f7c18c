package vrrp

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Columns of /proc/net/raw and /proc/net/raw6 as the kernel prints them
// (net/ipv4/raw.c raw_sock_seq_show, net/ipv6/datagram.c): sl, local,
// remote, st, tx:rx queue, tr:when, retrnsmt, uid, timeout, inode, ref,
// pointer, drops. The header names two columns twice, so the positions
// are counted on the rows, not the header.
const (
	procRawInode = 9
	procRawDrops = 12
)

// maxProcRawLines bounds the scan: one line per raw socket of the network
// namespace, which only root can open.
const maxProcRawLines = 1 << 16

// procNetRawDrops reads the drops of the socket with inode ino from the
// raw socket table file (/proc/net/raw or /proc/net/raw6).
func procNetRawDrops(file string, ino uint64) (uint64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseProcNetRawDrops(f, ino)
}

// parseProcNetRawDrops finds the row of inode ino in a /proc/net/raw(6)
// table and returns its drops column.
func parseProcNetRawDrops(r io.Reader, ino uint64) (uint64, error) {
	sc := bufio.NewScanner(r)
	want := strconv.FormatUint(ino, 10)
	for n := 0; sc.Scan(); n++ {
		if n == 0 {
			continue // the header
		}
		if n > maxProcRawLines {
			break
		}
		f := strings.Fields(sc.Text())
		if len(f) <= procRawDrops || f[procRawInode] != want {
			continue
		}
		drops, err := strconv.ParseUint(f[procRawDrops], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("vrrp: drops of socket %d: %w", ino, err)
		}
		return drops, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("vrrp: socket inode %d not in the raw socket table", ino)
}
