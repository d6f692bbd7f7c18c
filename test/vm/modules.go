package vm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// requiredModules are loaded by default and must exist in the kernel (as a
// module or built in): the IPVS core and what the namespace labs build links
// from.
var requiredModules = []string{
	"ip_vs", "nf_conntrack",
	"veth", "bridge", "macvlan", "dummy", "ipip", "ip6_tunnel",
}

// schedulerModules are loaded by default when the kernel has them: the set
// of schedulers grows across kernel versions (twos arrived in 6.x).
var schedulerModules = []string{
	"ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc",
	"ip_vs_lblcr", "ip_vs_dh", "ip_vs_sh", "ip_vs_sed", "ip_vs_nq",
	"ip_vs_fo", "ip_vs_ovf", "ip_vs_mh", "ip_vs_twos",
}

// DefaultModules returns the module names loaded when Spec.Modules is nil.
// Schedulers missing from the kernel are skipped; every other name must
// exist.
func DefaultModules() []string {
	return slices.Concat(requiredModules, schedulerModules)
}

// Module is one loadable kernel module file.
type Module struct {
	Name string // module name as in /sys/module, e.g. "ip_vs", "crc32c_intel"
	Path string // relative to Kernel.ModulesDir, e.g. "kernel/net/netfilter/ipvs/ip_vs.ko"
	// Soft marks a module that was pulled in only by a softdep (for
	// example crc32c-intel for libcrc32c). Such modules may fail to load in
	// the guest (the emulated CPU lacks SSE4.2) without harm, so the guest
	// warns instead of failing.
	Soft bool
}

// Modules returns the dependency-ordered closure of names, ready for insmod
// one after the other. Built-in modules contribute nothing. A name the
// kernel does not know is an error, except a scheduler, which is skipped.
// names == nil means DefaultModules.
func (k *Kernel) Modules(ctx context.Context, names []string) ([]Module, error) {
	// Schedulers come and go across kernel versions: a missing one is
	// skipped wherever it is asked for.
	optional := map[string]bool{}
	for _, n := range schedulerModules {
		optional[n] = true
	}
	if names == nil {
		names = DefaultModules()
	}
	hard, err := k.readModulesDep()
	if err != nil {
		return nil, err
	}
	var (
		out   []Module
		index = map[string]int{} // path → position in out
	)
	for _, name := range names {
		paths, err := k.showDepends(ctx, name)
		if errors.Is(err, errUnknownModule) && optional[name] {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(paths) == 0 {
			continue // built in
		}
		// modprobe lists the target last; its hard dependencies are what
		// modules.dep says, anything else came from a softdep.
		target := paths[len(paths)-1]
		isHard := map[string]bool{target: true}
		for _, d := range hard[target] {
			isHard[d] = true
		}
		for _, p := range paths {
			if i, ok := index[p]; ok {
				// Seen before, perhaps as someone's softdep: hard wins.
				out[i].Soft = out[i].Soft && !isHard[p]
				continue
			}
			index[p] = len(out)
			out = append(out, Module{Name: moduleName(p), Path: p, Soft: !isHard[p]})
		}
	}
	return out, nil
}

var errUnknownModule = errors.New("unknown module")

// showDepends asks the host's modprobe, pointed at the extracted tree, for
// the load order of name. It returns module paths relative to ModulesDir;
// an empty list means built in.
func (k *Kernel) showDepends(ctx context.Context, name string) ([]string, error) {
	// -C /dev/null: the host's modprobe.d (blacklists, install commands)
	// says nothing about the guest.
	cmd := exec.CommandContext(ctx, "modprobe", "-C", "/dev/null", "-d", k.Root, "-S", k.Version, "--show-depends", name)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not found") {
			return nil, fmt.Errorf("vm: kernel module %q: %w in kernel %s (%s)", name, errUnknownModule, k.Version, strings.TrimSpace(string(out)))
		}
		return nil, fmt.Errorf("vm: modprobe --show-depends %s: %w\n%s", name, err, out)
	}
	var paths []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && f[0] == "insmod":
			rel, err := filepath.Rel(k.ModulesDir, f[1])
			if err != nil || strings.HasPrefix(rel, "..") {
				return nil, fmt.Errorf("vm: modprobe --show-depends %s: %s is outside %s", name, f[1], k.ModulesDir)
			}
			paths = append(paths, rel)
		case len(f) >= 1 && f[0] == "builtin":
			// Nothing to load.
		case len(f) == 0:
		default:
			return nil, fmt.Errorf("vm: modprobe --show-depends %s: unexpected line %q", name, sc.Text())
		}
	}
	return paths, nil
}

// readModulesDep parses modules.dep: module path → all its hard
// dependencies (depmod already lists the transitive closure).
func (k *Kernel) readModulesDep() (map[string][]string, error) {
	data, err := os.ReadFile(filepath.Join(k.ModulesDir, "modules.dep"))
	if err != nil {
		return nil, fmt.Errorf("vm: read modules.dep: %w", err)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(data)) {
		mod, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok {
			deps[mod] = strings.Fields(rest)
		}
	}
	return deps, nil
}

// modulesDepFor returns a modules.dep restricted to mods, so that busybox
// modprobe in the guest (run by the kernel's request_module and by
// moby/ipvs) finds exactly the modules that are in the image.
func (k *Kernel) modulesDepFor(mods []Module) ([]byte, error) {
	all, err := k.readModulesDep()
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for _, m := range mods {
		present[m.Path] = true
	}
	var b strings.Builder
	for _, m := range mods {
		var deps []string
		for _, d := range all[m.Path] {
			if present[d] {
				deps = append(deps, d)
			}
		}
		fmt.Fprintf(&b, "%s: %s\n", m.Path, strings.Join(deps, " "))
	}
	return []byte(b.String()), nil
}

// moduleName turns a file path into the kernel's module name: the base name
// without .ko, with dashes as underscores.
func moduleName(path string) string {
	return strings.ReplaceAll(strings.TrimSuffix(filepath.Base(path), ".ko"), "-", "_")
}
