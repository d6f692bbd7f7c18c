package vm

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
	"syscall"
)

// cpioWriter writes a "newc" (SVR4, no CRC) archive, the format the kernel
// unpacks as initramfs. Writing it from Go lets the harness create device
// nodes and root-owned files without privileges or a staging tree on disk.
//
// The kernel's unpacker does not create missing parent directories, so every
// entry's parents are emitted first, once.
type cpioWriter struct {
	w    *bufio.Writer
	off  int64 // bytes written so far, for alignment
	ino  uint32
	seen map[string]bool
	err  error
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: bufio.NewWriterSize(w, 1<<20), seen: map[string]bool{}}
}

// Dir adds a directory (and its parents).
func (c *cpioWriter) Dir(name string, perm uint32) error {
	return c.entry(name, syscall.S_IFDIR|perm, 0, 0, 0, nil)
}

// File adds a regular file of size bytes read from r.
func (c *cpioWriter) File(name string, perm uint32, size int64, r io.Reader) error {
	return c.entry(name, syscall.S_IFREG|perm, size, 0, 0, r)
}

// Symlink adds name pointing at target.
func (c *cpioWriter) Symlink(name, target string) error {
	return c.entry(name, syscall.S_IFLNK|0o777, int64(len(target)), 0, 0, strings.NewReader(target))
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm uint32, major, minor uint32) error {
	return c.entry(name, syscall.S_IFCHR|perm, 0, major, minor, nil)
}

// Close writes the trailer and flushes. It does not close the underlying
// writer.
func (c *cpioWriter) Close() error {
	c.header("TRAILER!!!", 0, 0, 0, 0)
	c.pad()
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

func (c *cpioWriter) entry(name string, mode uint32, size int64, major, minor uint32, r io.Reader) error {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		return nil // the root exists already
	}
	if c.seen[name] {
		if mode&syscall.S_IFMT == syscall.S_IFDIR {
			return nil
		}
		return fmt.Errorf("initramfs: %s added twice", name)
	}
	if dir := path.Dir(name); dir != "." && !c.seen[dir] {
		if err := c.Dir(dir, 0o755); err != nil {
			return err
		}
	}
	c.seen[name] = true
	c.header(name, mode, size, major, minor)
	if r != nil && c.err == nil {
		n, err := io.Copy(c, r)
		if err == nil && n != size {
			err = fmt.Errorf("size changed while copying: want %d bytes, got %d", size, n)
		}
		if err != nil {
			c.err = fmt.Errorf("initramfs: %s: %w", name, err)
		}
	}
	c.pad()
	return c.err
}

// header writes the 110-byte header and the NUL-terminated name, padded so
// that the data starts on a 4-byte boundary.
func (c *cpioWriter) header(name string, mode uint32, size int64, major, minor uint32) {
	if c.err != nil {
		return
	}
	c.ino++
	nlink := 1
	if mode&syscall.S_IFMT == syscall.S_IFDIR {
		nlink = 2
	}
	fmt.Fprintf(c, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\x00",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, major, minor, len(name)+1, 0, name)
	c.pad()
}

// pad aligns the stream to 4 bytes.
func (c *cpioWriter) pad() {
	if n := c.off % 4; n != 0 {
		c.Write(make([]byte, 4-n))
	}
}

// Write appends raw bytes and tracks the offset that pad needs. Errors are
// sticky so that callers can check once.
func (c *cpioWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.off += int64(n)
	c.err = err
	return n, err
}
