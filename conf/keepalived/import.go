// Package keepalived converts a keepalived.conf into lvsd's HCL (lvsd
// import-keepalived). It owns keepalived's syntax (includes, @ID
// conditions, $PARAM substitution), the mapping of each keepalived keyword
// to lvsd's configuration or to a note saying why it is not carried over
// (a keyword table per kind of block, keywords.go), and a small HCL writer
// that keeps the keepalived line each output line came from. What it
// writes is validated with conf.Parse before it is returned, and a
// problem found there is reported at the keepalived line.
//
// It imports conf and, for their public names only, the domain packages
// (ipvs's schedulers). It must not import internal/* or cmd; conf and the
// domain packages must not import it.
package keepalived

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsd/lvsd/conf"
)

// Note is something of a keepalived.conf that the import did not
// carry over as it was. Each one is also a comment in the HCL, at the
// place the setting would have gone.
type Note struct {
	File      string
	Line      int
	Statement string // the keepalived statement, as written
	Text      string // what became of it, and why
	// ChangesBehaviour marks what makes lvsd act differently from
	// keepalived with this file (AH authentication, a check kind lvsd
	// lacks, …): `lvsd import-keepalived` then exits non-zero.
	ChangesBehaviour bool
}

func (n Note) String() string {
	kind := "note"
	if n.ChangesBehaviour {
		kind = "changes behaviour"
	}
	return fmt.Sprintf("%s:%d: %s: %s — %s", n.File, n.Line, kind, n.Statement, n.Text)
}

// ChangesBehaviour reports whether any note marks a change of behaviour.
func ChangesBehaviour(notes []Note) bool {
	for _, n := range notes {
		if n.ChangesBehaviour {
			return true
		}
	}
	return false
}

// Import reads the keepalived.conf at path, with the files it
// includes, and returns the equivalent lvsd HCL and notes on what could
// not be carried over as it was. The HCL is deterministic and passes lvsd's
// validation (interfaces and programs are not looked for: that is the
// job of `lvsd check` on the director). err is set when the input cannot
// be read or converted (syntax, an include cycle, an unknown top-level
// block, a value keepalived would not accept either); each of its lines
// names the keepalived file and line. When only lvsd's validation of the
// result fails, the HCL is returned with the error, for inspection.
//
// The file is read as keepalived with config id configID would read it
// (keepalived -i, which defaults to the host name up to its first dot):
// a line "@ID …" only when configID is ID, "@^ID …" only when it is not.
// When a line depended on it, the HCL says so in its first comment.
//
// A caller such as `lvsd import-keepalived` prints the HCL, prints each
// note, and fails when err is set or ChangesBehaviour(notes).
func Import(path, configID string) (hcl []byte, notes []Note, err error) {
	return importKeepalived(path, configID, kaOS)
}

func importKeepalived(path, configID string, fs kaFS) ([]byte, []Note, error) {
	r := newKAReader(fs, configID)
	toks, err := r.file(path, kaPos{})
	if err != nil {
		return nil, r.notes, err
	}
	root, trailing, err := kaParse(toks)
	if err != nil {
		return nil, r.notes, err
	}
	c := newKAConv()
	c.notes = r.notes
	top := c.convert(root, trailing)
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool {
			a, b := c.errs[i].(*kaError).Pos, c.errs[j].(*kaError).Pos
			return a.File < b.File || a.File == b.File && a.Line < b.Line
		})
		return nil, c.sortedNotes(), errors.Join(c.errs...)
	}
	if r.usedID {
		b := newBlock("", kaPos{})
		b.comment(fmt.Sprintf("Imported for keepalived config id %q (lvsd import-keepalived --config-id):\n"+
			"the lines of the keepalived file marked @ID for another id, or @^%s, are left out.", configID, configID), kaPos{})
		top = append([]*hBlock{commentOnly(b)}, top...)
	}
	out, srcOf := renderHCL(top)
	if _, diags := conf.Parse(out, "imported.hcl", anyHost{}); diags.HasErrors() {
		var msgs []string
		for _, d := range diags {
			if d.Severity != hcl.DiagError {
				continue
			}
			msg := conf.FormatDiagnostic(d)
			if d.Subject != nil {
				if src, ok := srcOf[d.Subject.Start.Line]; ok {
					msg = src.String() + ": " + d.Summary
					if d.Detail != "" {
						msg += "; " + strings.Join(strings.Fields(d.Detail), " ")
					}
				}
			}
			msgs = append(msgs, msg)
		}
		return out, c.sortedNotes(), fmt.Errorf("the converted configuration is not valid for lvsd:\n%s", strings.Join(msgs, "\n"))
	}
	return out, c.sortedNotes(), nil
}

// anyHost has every interface and program: the import checks the file,
// not the machine it runs on.
type anyHost struct{}

func (anyHost) Hostname() string             { return "imported" }
func (anyHost) HasInterface(string) bool     { return true }
func (anyHost) Executable(path string) error { return nil }
