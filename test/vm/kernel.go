package vm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// KernelMetaPackage is the Debian package whose dependency names the concrete
// cloud kernel. It is resolved at run time so that security updates of the
// kernel ABI (6.1.0-N) need no code change.
const KernelMetaPackage = "linux-image-cloud-amd64"

// Kernel is an extracted Debian kernel package, ready to boot.
type Kernel struct {
	Version    string // uname -r, e.g. "6.1.0-56-cloud-amd64"
	Package    string // Debian package it came from
	Root       string // extracted package root, the depmod -b base
	Vmlinuz    string // bootable bzImage
	ModulesDir string // Root/lib/modules/Version, with uncompressed .ko and modules.dep
}

// CacheDir returns the harness cache folder: $LVSD_CACHE if set, otherwise
// <repo root>/.cache/vm. It creates the folder, with a .gitignore that keeps
// downloads out of git.
func CacheDir() (string, error) {
	dir := os.Getenv("LVSD_CACHE")
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, ".cache", "vm")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("vm: create cache dir: %w", err)
	}
	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(ignore); errors.Is(err, os.ErrNotExist) {
		// Best effort: a missing .gitignore only risks noise in git status.
		_ = os.WriteFile(ignore, []byte("# lvsd VM harness cache, never committed\n*\n"), 0o644)
	}
	return dir, nil
}

// RepoRoot returns the directory holding go.mod, found by walking up from the
// working directory (go test runs in the package directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("vm: find repo root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("vm: find repo root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Prepare returns the cloud kernel, downloading and extracting it into the
// cache on first use. It is idempotent and safe to call from parallel tests
// and from concurrent test processes: a file lock serialises the work and the
// tree is built in a temporary folder that is renamed into place only when
// complete, so a crash never leaves a half-built kernel behind. The result
// is memoized per process; each caller gets its own copy.
func Prepare(ctx context.Context) (*Kernel, error) {
	prepared.Lock()
	defer prepared.Unlock()
	if prepared.k == nil {
		k, err := prepare(ctx)
		if err != nil {
			return nil, err
		}
		prepared.k = k
	}
	k := *prepared.k
	return &k, nil
}

// prepared memoizes Prepare per process: resolving the package with
// apt-cache alone takes about a second.
var prepared struct {
	sync.Mutex
	k *Kernel
}

func prepare(ctx context.Context) (*Kernel, error) {
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	pkg, err := resolveKernelPackage(ctx)
	if err != nil {
		return nil, err
	}
	kdir := filepath.Join(cache, "kernel")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		return nil, fmt.Errorf("vm: create kernel cache: %w", err)
	}
	final := filepath.Join(kdir, pkg)
	if k, err := loadKernel(final, pkg); err == nil {
		return k, nil // fast path: no lock needed to read a complete tree
	}

	unlock, err := lockFile(ctx, filepath.Join(kdir, ".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if k, err := loadKernel(final, pkg); err == nil {
		return k, nil // another process finished while we waited
	}
	// Leftovers of an interrupted run are garbage: we hold the lock.
	old, _ := filepath.Glob(filepath.Join(kdir, ".tmp-*"))
	for _, o := range old {
		os.RemoveAll(o)
	}
	tmp, err := os.MkdirTemp(kdir, ".tmp-"+pkg+"-")
	if err != nil {
		return nil, fmt.Errorf("vm: create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after a successful rename

	if err := buildKernelTree(ctx, tmp, pkg); err != nil {
		return nil, fmt.Errorf("vm: prepare %s: %w", pkg, err)
	}
	// MkdirTemp made it 0700; the cache is shared with non-root readers.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("vm: install kernel tree: %w", err)
	}
	os.RemoveAll(final) // an incomplete tree from an older layout
	if err := os.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("vm: install kernel tree: %w", err)
	}
	return loadKernel(final, pkg)
}

// resolveKernelPackage maps the meta package to the concrete image package,
// e.g. linux-image-6.1.0-56-cloud-amd64.
func resolveKernelPackage(ctx context.Context) (string, error) {
	out, err := withAptUpdate(ctx, func() ([]byte, error) {
		return runCmd(ctx, "", "apt-cache", "depends", KernelMetaPackage)
	})
	if err != nil {
		return "", fmt.Errorf("vm: resolve %s: %w", KernelMetaPackage, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		dep, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Depends: ")
		if ok && strings.HasPrefix(dep, "linux-image-") && dep != KernelMetaPackage {
			return dep, nil
		}
	}
	return "", fmt.Errorf("vm: resolve %s: no linux-image dependency in apt-cache output:\n%s", KernelMetaPackage, out)
}

// buildKernelTree downloads pkg into dir, extracts it under dir/root,
// decompresses the modules (busybox insmod reads only plain .ko) and runs
// depmod (the package ships no modules.dep).
func buildKernelTree(ctx context.Context, dir, pkg string) error {
	dl := filepath.Join(dir, "download")
	if err := os.Mkdir(dl, 0o755); err != nil {
		return err
	}
	// apt-get download writes into its working directory.
	if _, err := withAptUpdate(ctx, func() ([]byte, error) {
		return runCmd(ctx, dl, "apt-get", "download", "-q", pkg)
	}); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	debs, _ := filepath.Glob(filepath.Join(dl, pkg+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("download: expected one %s .deb, found %d", pkg, len(debs))
	}
	root := filepath.Join(dir, "root")
	if _, err := runCmd(ctx, "", "dpkg-deb", "-x", debs[0], root); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	if err := os.RemoveAll(dl); err != nil {
		return err
	}
	version := strings.TrimPrefix(pkg, "linux-image-")
	mods := filepath.Join(root, "lib", "modules", version)
	if _, err := os.Stat(mods); err != nil {
		return fmt.Errorf("extract: package has no modules for %s: %w", version, err)
	}
	if err := decompressModules(ctx, mods); err != nil {
		return err
	}
	if _, err := runCmd(ctx, "", "depmod", "-b", root, version); err != nil {
		return fmt.Errorf("depmod: %w", err)
	}
	return nil
}

// decompressModules turns every .ko.{xz,zst,gz} under dir into a plain .ko,
// in parallel batches: there are a few thousand of them.
func decompressModules(ctx context.Context, dir string) error {
	tools := map[string][]string{
		".ko.xz":  {"xz", "-d", "-f"},
		".ko.zst": {"zstd", "-d", "-f", "-q", "--rm"},
		".ko.gz":  {"gzip", "-d", "-f"},
	}
	byExt := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for ext := range tools {
			if strings.HasSuffix(path, ext) {
				byExt[ext] = append(byExt[ext], path)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("decompress modules: %w", err)
	}
	type job struct{ argv []string }
	var jobs []job
	for ext, files := range byExt {
		for len(files) > 0 {
			n := min(len(files), 200)
			jobs = append(jobs, job{append(append([]string{}, tools[ext]...), files[:n]...)})
			files = files[n:]
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan job)
	)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for j := range next {
				if _, err := runCmd(ctx, "", j.argv[0], j.argv[1:]...); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("decompress modules: %w", err)
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	return first
}

// loadKernel checks that a cached tree is complete and describes it.
func loadKernel(dir, pkg string) (*Kernel, error) {
	version := strings.TrimPrefix(pkg, "linux-image-")
	root := filepath.Join(dir, "root")
	k := &Kernel{
		Version:    version,
		Package:    pkg,
		Root:       root,
		Vmlinuz:    filepath.Join(root, "boot", "vmlinuz-"+version),
		ModulesDir: filepath.Join(root, "lib", "modules", version),
	}
	for _, f := range []string{k.Vmlinuz, filepath.Join(k.ModulesDir, "modules.dep.bin")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("vm: kernel cache %s incomplete: %w", dir, err)
		}
	}
	return k, nil
}

// withAptUpdate runs f and, if it fails, refreshes the package lists once and
// retries: a fresh container has no lists, and stale lists name kernel
// versions the mirror has already dropped.
func withAptUpdate(ctx context.Context, f func() ([]byte, error)) ([]byte, error) {
	out, err := f()
	if err == nil {
		return out, nil
	}
	if _, uerr := runCmd(ctx, "", "apt-get", "update", "-q"); uerr != nil {
		return nil, fmt.Errorf("%w (and apt-get update failed: %v)", err, uerr)
	}
	return f()
}
