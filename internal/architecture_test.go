package internal

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/lvsd/lvsd/"

// domains know nothing of each other, of conf or of the application.
var domains = []string{"vrrp", "healthcheck", "ipvs", "sync"}

// area is the top of a package path inside the module: "vrrp" for
// vrrp/vrrptest, "internal/director" for internal/director.
func area(pkg string) string {
	rel, ok := strings.CutPrefix(pkg, module)
	if !ok {
		return "" // outside the module
	}
	parts := strings.Split(rel, "/")
	if parts[0] == "internal" && len(parts) > 1 {
		return "internal/" + parts[1]
	}
	return parts[0]
}

// forbidden says why a package in area from may not depend on one in
// area to, or "" when it may (DESIGN.md, "Architecture").
func forbidden(from, to string) string {
	switch {
	case to == "" || from == to:
		return ""
	case to == "cmd":
		return "nothing imports cmd"
	case to == "test" && from != "test":
		return "product code does not import the test tree"
	case slices.Contains(domains, from) && (slices.Contains(domains, to) || to == "conf" || strings.HasPrefix(to, "internal")):
		return "a domain package imports no other domain package, no conf and no internal"
	case from == "conf" && (strings.HasPrefix(to, "internal") || to == "test"):
		return "conf imports only the domain packages"
	}
	return ""
}

// forbiddenImport is forbidden for direct imports, which also carry the
// rules that only hold for them: the director reads its services from
// conf, which knows every domain, but uses none but ipvs and healthcheck.
func forbiddenImport(from, to string) string {
	if from == "internal/director" && (to == "vrrp" || to == "sync") {
		return "the director is health and IPVS policy: it imports no VRRP or sync"
	}
	return forbidden(from, to)
}

// TestImportGraph fails on any forbidden edge among the imports and the
// transitive dependencies (go list's Deps, the -deps closure) of every
// package, under every build tag.
func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "lab vm vmguest bench",
		"-f", `{{.ImportPath}} |{{range .Imports}} {{.}}{{end}} |{{range .Deps}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for line := range strings.Lines(string(out)) {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if len(parts) != 3 {
			continue
		}
		pkg := strings.TrimSpace(parts[0])
		from := area(pkg)
		checked++
		for _, dep := range strings.Fields(parts[1]) {
			if why := forbiddenImport(from, area(dep)); why != "" {
				t.Errorf("%s imports %s: %s", pkg, dep, why)
			}
		}
		for _, dep := range strings.Fields(parts[2]) {
			if why := forbidden(from, area(dep)); why != "" {
				t.Errorf("%s depends on %s: %s", pkg, dep, why)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("go list named %d packages; the module has more", checked)
	}
}

// The rules themselves, on edges that must and must not pass.
func TestForbidden(t *testing.T) {
	for _, c := range []struct {
		from, to string
		bad      bool
	}{
		{"vrrp", "ipvs", true}, {"ipvs", "sync", true}, {"sync", "conf", true}, {"healthcheck", "internal/control", true},
		{"conf", "internal/director", true}, {"internal/director", "vrrp", true}, {"internal/daemon", "cmd", true},
		{"internal/doctor", "test", true},
		{"conf", "vrrp", false}, {"internal/director", "ipvs", false}, {"internal/daemon", "vrrp", false},
		{"cmd", "internal/daemon", false}, {"test", "internal/control", false}, {"vrrp", "", false},
	} {
		if got := forbiddenImport(c.from, c.to) != ""; got != c.bad {
			t.Errorf("%s → %s forbidden: %v, want %v", c.from, c.to, got, c.bad)
		}
	}
}

// The composition root composes and conf is its schema (issue 9's
// budgets): cmd/lvsd at most 1,200 lines of non-test Go, conf's own
// package (the importer and the bounds are packages of their own) at
// most 2,000.
func TestSizeBudgets(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	root := strings.TrimSpace(string(out))
	for dir, budget := range map[string]int{"cmd/lvsd": 1200, "conf": 2000} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		lines := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lines += bytes.Count(b, []byte("\n"))
		}
		t.Logf("%s: %d lines of non-test Go (budget %d)", dir, lines, budget)
		if lines > budget {
			t.Errorf("%s has %d lines of non-test Go, over its budget of %d: move logic into a package", dir, lines, budget)
		}
	}
}
