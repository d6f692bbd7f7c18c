package vm

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// BusyboxPath is the host's busybox-static; it becomes the guest's /bin/busybox.
var BusyboxPath = "/bin/busybox"

// image is everything that goes into one initramfs.
type image struct {
	kernel  *Kernel
	modules []Module
	files   map[string]string // guest path → host path (static or non-ELF)
	data    map[string][]byte // guest path → contents
	progs   []string          // dynamically linked host programs
	init    []byte            // the /init script
}

// source is one regular file of the image.
type source struct {
	host string // read from here, or
	data []byte // use this
	mode uint32
}

// writeInitramfs writes the image as an uncompressed newc archive to dst
// and returns its size. Uncompressed: with gzip a 20 MB image booted no
// faster under TCG (~2.3 s either way), and the host skips compressing.
func writeInitramfs(ctx context.Context, dst string, im image) (int64, error) {
	files, err := im.collect(ctx)
	if err != nil {
		return 0, err
	}
	f, err := os.Create(dst)
	if err != nil {
		return 0, fmt.Errorf("initramfs: %w", err)
	}
	defer f.Close()
	c := newCPIOWriter(f)
	// Errors are sticky in c and reported by Close.
	for _, d := range []string{"proc", "sys", "dev", "run", "root", "etc", "bin", "sbin", "usr/bin", "usr/sbin", "var"} {
		c.Dir(d, 0o755)
	}
	c.Dir("tmp", 0o1777)
	// The kernel opens /dev/console for init before anything is mounted.
	c.CharDev("dev/console", 0o600, 5, 1)
	c.Symlink("var/run", "../run")
	for _, name := range slices.Sorted(maps.Keys(files)) {
		s := files[name]
		if s.host == "" {
			c.File(name, s.mode, int64(len(s.data)), bytes.NewReader(s.data))
			continue
		}
		if err := addHostFile(c, name, s); err != nil {
			return 0, err
		}
	}
	if err := c.Close(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("initramfs: %w", err)
	}
	return c.off, nil
}

func addHostFile(c *cpioWriter, name string, s source) error {
	hf, err := os.Open(s.host) // follows symlinks: the guest gets the content
	if err != nil {
		return fmt.Errorf("initramfs: %s: %w", name, err)
	}
	defer hf.Close()
	st, err := hf.Stat()
	if err != nil {
		return fmt.Errorf("initramfs: %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("initramfs: %s: host file %s is not a regular file", name, s.host)
	}
	mode := s.mode
	if mode == 0 {
		mode = uint32(st.Mode().Perm())
	}
	return c.File(name, mode, st.Size(), hf)
}

// collect resolves the image to a flat map of guest path → source, checking
// for conflicts and for dynamically linked binaries that would not run.
func (im image) collect(ctx context.Context) (map[string]source, error) {
	files := map[string]source{}
	add := func(guest string, s source) error {
		guest = path.Clean("/" + guest)
		if old, ok := files[guest]; ok && (old.host == "" || old.host != s.host) {
			return fmt.Errorf("initramfs: %s is provided twice", guest)
		}
		files[guest] = s
		return nil
	}
	if err := requireStatic(BusyboxPath); err != nil {
		return nil, fmt.Errorf("initramfs: busybox: %w (install busybox-static)", err)
	}
	add("/bin/busybox", source{host: BusyboxPath, mode: 0o755})
	add("/init", source{data: im.init, mode: 0o755})
	add("/etc/passwd", source{data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"), mode: 0o644})
	add("/etc/group", source{data: []byte("root:x:0:\nnogroup:x:65534:\n"), mode: 0o644})
	add("/etc/hosts", source{data: []byte("127.0.0.1 localhost\n::1 localhost\n"), mode: 0o644})

	// Modules keep their layout under /lib/modules so that the guest's
	// modprobe and the kernel's request_module can find them.
	moddir := "/lib/modules/" + im.kernel.Version
	dep, err := im.kernel.modulesDepFor(im.modules)
	if err != nil {
		return nil, err
	}
	if err := add(moddir+"/modules.dep", source{data: dep, mode: 0o644}); err != nil {
		return nil, err
	}
	for _, m := range im.modules {
		if err := add(moddir+"/"+m.Path, source{host: filepath.Join(im.kernel.ModulesDir, m.Path), mode: 0o644}); err != nil {
			return nil, err
		}
	}

	for _, guest := range slices.Sorted(maps.Keys(im.files)) {
		host := im.files[guest]
		if err := requireStatic(host); err != nil {
			return nil, fmt.Errorf("initramfs: %s: %w (use HostPrograms for dynamically linked programs)", guest, err)
		}
		if err := add(guest, source{host: host}); err != nil {
			return nil, err
		}
	}
	for _, guest := range slices.Sorted(maps.Keys(im.data)) {
		content := im.data[guest]
		mode := uint32(0o644)
		if bytes.HasPrefix(content, []byte("#!")) {
			mode = 0o755
		}
		if err := add(guest, source{data: content, mode: mode}); err != nil {
			return nil, err
		}
	}
	for _, prog := range im.progs {
		deps, err := programFiles(ctx, prog)
		if err != nil {
			return nil, err
		}
		for _, d := range deps {
			if err := add(d, source{host: d}); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

// lddLine matches "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)"
// and "/lib64/ld-linux-x86-64.so.2 (0x...)".
var lddLine = regexp.MustCompile(`^\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)\s*$`)

// programFiles returns the absolute path of a host program followed by the
// shared libraries and loader it needs, as ldd resolves them on the host.
// They keep their host paths in the guest, where the loader's default search
// path finds them.
func programFiles(ctx context.Context, prog string) ([]string, error) {
	p, err := exec.LookPath(prog)
	if err != nil {
		return nil, fmt.Errorf("initramfs: host program: %w", err)
	}
	if p, err = filepath.Abs(p); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "ldd", p).CombinedOutput()
	text := string(out)
	if err != nil {
		if strings.Contains(text, "not a dynamic executable") {
			return []string{p}, nil
		}
		return nil, fmt.Errorf("initramfs: ldd %s: %w\n%s", p, err, text)
	}
	files := []string{p}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("initramfs: %s: missing library: %s", p, strings.TrimSpace(line))
		}
		if m := lddLine.FindStringSubmatch(line); m != nil {
			files = append(files, m[1])
		}
	}
	return files, nil
}

// requireStatic fails if path is an ELF file with a program interpreter:
// the guest has no shared libraries except those of HostPrograms. Non-ELF
// files (scripts, configs) pass.
func requireStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil
		}
		if _, serr := os.Stat(path); serr != nil {
			return serr
		}
		return nil
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked", path)
		}
	}
	return nil
}
