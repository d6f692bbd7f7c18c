package conf

import (
	"fmt"
	"github.com/lvsd/lvsd/conf/bound"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Host answers the questions about this machine that `lvsd check` reports
// as warnings (the file is valid, the host may not be the one it is for)
// and `lvsd run` refuses to start on.
type Host interface {
	Hostname() string
	HasInterface(name string) bool
	Executable(path string) error
}

// AddressHost is a Host that also lists the addresses of its interfaces,
// so that a VIP that is the host's own address is refused. A Host without
// it (the keepalived importer's, which checks no host) skips that check.
type AddressHost interface {
	Host
	// Addresses lists the addresses on an interface in the kernel's order.
	Addresses(iface string) ([]IfaceAddr, error)
}

// IfaceAddr is an address on an interface, with the kernel's flags that
// tell the host's own addresses from those lvsd added.
type IfaceAddr struct {
	Prefix netip.Prefix
	// Secondary (IPv4): in the subnet, with the mask, of an earlier
	// address, which the kernel calls the primary.
	Secondary bool
	// NoDAD (IPv6): added without duplicate address detection, as lvsd
	// adds its IPv6 VIPs (vrrp.Netlink.AddVIPs).
	NoDAD bool
}

// Load reads, parses and validates the file at path against this machine.
// The Config is nil when the diagnostics hold an error.
func Load(path string) (*Config, hcl.Diagnostics) {
	src, err := readBounded(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration",
			Detail:   err.Error(),
		}}
	}
	return Parse(src, path, ThisHost{})
}

// readBounded reads path up to one byte past bound.MaxFileSize: enough for
// Parse to refuse a larger file, never the whole of a huge one.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, bound.MaxFileSize+1))
}

// Parse validates src, named filename in diagnostics, against host. A
// file beyond the bounds (size, nesting) is refused before the HCL parser
// reads it.
func Parse(src []byte, filename string, host Host) (*Config, hcl.Diagnostics) {
	if diags := bound.Check(src, filename); diags.HasErrors() {
		return nil, diags
	}
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	d := &decoder{diags: diags}
	cfg := d.file(f.Body, host)
	cfg.File = filename
	sortByPosition(d.diags)
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	return cfg, d.diags
}

// hostProblem marks a diagnostic about this machine rather than the file.
type hostProblem struct{}

// IsHostProblem reports whether diag is about this machine (an interface
// or script missing here, a VIP that is its own address) rather than
// about the file.
func IsHostProblem(diag *hcl.Diagnostic) bool {
	_, ok := diag.Extra.(hostProblem)
	return ok
}

// RefusesRun reports whether diags keep a file from running (`lvsd run`
// and a reload): an error, or a problem of this host. Other warnings are
// shown and the file runs.
func RefusesRun(diags hcl.Diagnostics) bool {
	return diags.HasErrors() || slices.ContainsFunc(diags, IsHostProblem)
}

func (d *decoder) hostWarnf(rng hcl.Range, summary, detail string, args ...any) {
	d.warnf(rng, summary, detail, args...)
	d.diags[len(d.diags)-1].Extra = hostProblem{}
}

func (d *decoder) hostErrorf(rng hcl.Range, summary, detail string, args ...any) {
	d.errorf(rng, summary, detail, args...)
	d.diags[len(d.diags)-1].Extra = hostProblem{}
}

// WriteDiagnostics prints each diagnostic as
// "FILE:LINE,COL: summary; detail", warnings marked as such.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics) {
	for _, diag := range diags {
		fmt.Fprintln(w, FormatDiagnostic(diag))
	}
}

// FormatDiagnostic renders one diagnostic on one line.
func FormatDiagnostic(diag *hcl.Diagnostic) string {
	var b strings.Builder
	if s := diag.Subject; s != nil {
		fmt.Fprintf(&b, "%s:%d,%d: ", s.Filename, s.Start.Line, s.Start.Column)
	}
	if diag.Severity == hcl.DiagWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(diag.Summary)
	if diag.Detail != "" {
		b.WriteString("; ")
		b.WriteString(strings.Join(strings.Fields(diag.Detail), " "))
	}
	return b.String()
}

// ThisHost is the machine lvsd runs on.
type ThisHost struct{}

func (ThisHost) Hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "lvsd"
	}
	return h
}

func (ThisHost) HasInterface(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// Executable checks that path names an executable regular file (a bare
// name is looked up in PATH) that only root can change: lvsd runs scripts
// as root or switches to script_user from root, so a script, or a
// directory above it, that another user can write would let that user
// run anything as root.
func (ThisHost) Executable(path string) error {
	if !filepath.IsAbs(path) {
		p, err := exec.LookPath(path)
		if err != nil {
			return err
		}
		path = p
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	if os.Geteuid() != 0 {
		return nil // not root: nothing to protect
	}
	return onlyRootWrites(path)
}

// onlyRootWrites checks path and every directory above it: owned by root
// and not writable by group or others (a sticky directory excepted).
func onlyRootWrites(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
			return fmt.Errorf("refusing %s: %s is owned by uid %d, not root, and lvsd would run it as root (chown root %s)", path, p, st.Uid, p)
		}
		// A sticky directory (/tmp) is safe on the way: nobody else can
		// rename or replace what root owns in it.
		sticky := fi.IsDir() && fi.Mode()&os.ModeSticky != 0
		if fi.Mode().Perm()&0o022 != 0 && !sticky {
			return fmt.Errorf("refusing %s: %s is writable by group or others (mode %#o), so another user could change what root runs (chmod go-w %s)", path, p, fi.Mode().Perm(), p)
		}
		if p == "/" {
			return nil
		}
	}
}

// sortByPosition orders diagnostics as they appear in the file, so the
// operator reads them top to bottom.
func sortByPosition(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		if a == nil || b == nil {
			return a == nil && b != nil
		}
		if a.Start.Line != b.Start.Line {
			return a.Start.Line < b.Start.Line
		}
		return a.Start.Column < b.Start.Column
	})
}

var _ AddressHost = ThisHost{}
