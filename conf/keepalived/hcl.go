package keepalived

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is the small HCL writer of the keepalived import: a tree of
// blocks, attributes and comments rendered the way `terraform fmt` would
// (two-space indent, '=' aligned within a run of attributes, one blank
// line around nested blocks), with the keepalived position each output
// line came from, so that a problem found in the output can be reported
// at its source.

type hItemKind uint8

const (
	hAttr hItemKind = iota
	hComment
	hNested
)

type hItem struct {
	kind     hItemKind
	name     string // attribute name
	expr     string // attribute value, already HCL
	text     string // comment text
	block    *hBlock
	comments []string // comment lines before the item
	src      kaPos
}

type hBlock struct {
	typ      string
	labels   []string
	items    []*hItem
	comments []string // comment lines before the block
	tail     []string // comment lines at the end of the block
	src      kaPos
}

func newBlock(typ string, src kaPos, labels ...string) *hBlock {
	return &hBlock{typ: typ, labels: labels, src: src}
}

// attr sets an attribute, replacing an earlier one of the same name in place.
func (b *hBlock) attr(name, expr string, src kaPos, comments ...string) *hItem {
	for _, it := range b.items {
		if it.kind == hAttr && it.name == name {
			it.expr, it.src = expr, src
			it.comments = append(it.comments, comments...)
			return it
		}
	}
	it := &hItem{kind: hAttr, name: name, expr: expr, src: src, comments: comments}
	b.items = append(b.items, it)
	return it
}

func (b *hBlock) get(name string) *hItem {
	for _, it := range b.items {
		if it.kind == hAttr && it.name == name {
			return it
		}
	}
	return nil
}

func (b *hBlock) remove(name string) {
	for i, it := range b.items {
		if it.kind == hAttr && it.name == name {
			// Its comments stay where it was.
			if len(it.comments) > 0 {
				b.items[i] = &hItem{kind: hComment, text: strings.Join(it.comments, "\n"), src: it.src}
				return
			}
			b.items = append(b.items[:i], b.items[i+1:]...)
			return
		}
	}
}

// insertAfter adds an attribute after the last of the named attributes
// present, or at the end.
func (b *hBlock) insertAfter(it *hItem, after ...string) {
	at := -1
	for i, x := range b.items {
		for _, a := range after {
			if x.kind == hAttr && x.name == a {
				at = i
			}
		}
	}
	if at < 0 {
		b.items = append(b.items, it)
		return
	}
	b.items = append(b.items[:at+1], append([]*hItem{it}, b.items[at+1:]...)...)
}

func (b *hBlock) comment(text string, src kaPos, comments ...string) {
	b.items = append(b.items, &hItem{kind: hComment, text: text, src: src, comments: comments})
}

func (b *hBlock) nest(c *hBlock) *hBlock {
	b.items = append(b.items, &hItem{kind: hNested, block: c, src: c.src})
	return c
}

// child returns the nested block of type typ, made at the end if absent.
func (b *hBlock) child(typ string, src kaPos) *hBlock {
	for _, it := range b.items {
		if it.kind == hNested && it.block.typ == typ && len(it.block.labels) == 0 {
			return it.block
		}
	}
	return b.nest(newBlock(typ, src))
}

// hcl value encoders

func hStr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r == '$' || r == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteRune(r)
			b.WriteRune(r) // "$${" is a literal "${"
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\u%04x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

func hInt(n int) string { return strconv.Itoa(n) }

func hBool(v bool) string { return strconv.FormatBool(v) }

func hStrs(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = hStr(s)
	}
	return out
}

// hList is a list expression; long lists go one element a line.
func hList(exprs []string) string {
	one := "[" + strings.Join(exprs, ", ") + "]"
	if len(one) <= 72 || len(exprs) < 2 {
		return one
	}
	return "[\n" + strings.Join(exprs, ",\n") + ",\n]"
}

// hDur writes a duration the way people write them: "60s", "1.5s", "150ms".
func hDur(d time.Duration) string {
	switch {
	case d == 0:
		return hStr("0s")
	case d%time.Second == 0:
		return hStr(strconv.FormatInt(int64(d/time.Second), 10) + "s")
	case d >= time.Second && d%time.Millisecond == 0:
		return hStr(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s")
	case d%time.Millisecond == 0:
		return hStr(strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms")
	}
	return hStr(d.String())
}

// rendering

type hWriter struct {
	b     strings.Builder
	line  int
	srcOf map[int]kaPos // output line → where it came from
}

func (w *hWriter) writeLine(indent int, s string, src kaPos) {
	if s != "" {
		w.b.WriteString(strings.Repeat("  ", indent))
		w.b.WriteString(s)
	}
	w.b.WriteByte('\n')
	w.line++
	if src.File != "" {
		w.srcOf[w.line] = src
	}
}

func (w *hWriter) comments(indent int, lines []string, src kaPos) {
	for _, c := range lines {
		for _, l := range strings.Split(c, "\n") {
			if l == "" {
				w.writeLine(indent, "#", src)
				continue
			}
			w.writeLine(indent, "# "+l, src)
		}
	}
}

func renderHCL(top []*hBlock) ([]byte, map[int]kaPos) {
	w := &hWriter{srcOf: map[int]kaPos{}}
	for i, b := range top {
		if i > 0 {
			w.writeLine(0, "", kaPos{})
		}
		w.block(0, b)
	}
	return []byte(w.b.String()), w.srcOf
}

func (w *hWriter) block(indent int, b *hBlock) {
	if b.typ == "" { // only comments
		for _, it := range b.items {
			w.comments(indent, it.comments, it.src)
			w.comments(indent, []string{it.text}, it.src)
		}
		return
	}
	w.comments(indent, b.comments, b.src)
	head := b.typ
	for _, l := range b.labels {
		head += " " + hStr(l)
	}
	if len(b.items) == 0 && len(b.tail) == 0 {
		w.writeLine(indent, head+" {}", b.src)
		return
	}
	w.writeLine(indent, head+" {", b.src)
	w.body(indent+1, b.items)
	w.comments(indent+1, b.tail, b.src)
	w.writeLine(indent, "}", b.src)
}

func (w *hWriter) body(indent int, all []*hItem) {
	// Attributes and comments first, then the nested blocks, each in order.
	items := make([]*hItem, 0, len(all))
	for _, it := range all {
		if it.kind != hNested {
			items = append(items, it)
		}
	}
	for _, it := range all {
		if it.kind == hNested {
			items = append(items, it)
		}
	}
	// Attributes are aligned within runs of attribute lines, as hclwrite
	// aligns them: a comment line or a nested block ends a run.
	width := make([]int, len(items))
	for i := 0; i < len(items); {
		if items[i].kind != hAttr {
			i++
			continue
		}
		// A multi-line value stands alone.
		multi := func(k int) bool { return strings.Contains(items[k].expr, "\n") }
		j, max := i, 0
		for ; j < len(items) && items[j].kind == hAttr && (j == i || len(items[j].comments) == 0 && !multi(j)); j++ {
			if len(items[j].name) > max {
				max = len(items[j].name)
			}
			if multi(j) {
				j++
				break
			}
		}
		for k := i; k < j; k++ {
			width[k] = max
		}
		i = j
	}
	for i, it := range items {
		nested := it.kind == hNested
		if i > 0 && (nested || items[i-1].kind == hNested) {
			w.writeLine(0, "", kaPos{})
		}
		switch it.kind {
		case hNested:
			w.block(indent, it.block)
		case hComment:
			w.comments(indent, it.comments, it.src)
			w.comments(indent, []string{it.text}, it.src)
		case hAttr:
			w.comments(indent, it.comments, it.src)
			lines := strings.Split(it.expr, "\n")
			pad := strings.Repeat(" ", width[i]-len(it.name))
			w.writeLine(indent, it.name+pad+" = "+lines[0], it.src)
			for k, l := range lines[1:] {
				in := indent + 1
				if k == len(lines)-2 {
					in = indent // the closing bracket
				}
				w.writeLine(in, l, it.src)
			}
		}
	}
}
