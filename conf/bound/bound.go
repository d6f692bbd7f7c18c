// Package bound refuses an HCL source that is too large or nested too
// deeply before the HCL parser sees it: the parser recurses once per
// nested bracket, interpolation and unary operator, and runs out of stack
// (a fatal error, not a panic) near 100,000 levels. It is a lexical
// check, apart from conf's schema; conf.Parse calls it first, for check,
// run and reload alike. It imports only hcl.
package bound

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Bounds on a configuration file, checked before the HCL parser sees it.
// The parser recurses once per nested bracket, interpolation and unary
// operator, and runs out of stack (a fatal error, not a panic: nothing
// can recover it) near 100,000 levels: a reload of such a file would kill
// a running director without resigning, so both hosts would hold the VIPs.
const (
	// MaxFileSize: the largest configuration the benchmarks use (1,000
	// services × 10 real servers, each with its own check) is 1.1 MB and
	// parses in 0.9 s allocating 256 MB; 4 MiB leaves 3.5 times that room
	// while a reload stays within a few seconds of CPU.
	MaxFileSize = 4 << 20
	// MaxNesting: a real file nests about 5 deep (virtual_server,
	// real_server, check, a list, a string); 64 is far beyond any of them
	// and far below the parser's stack.
	MaxNesting = 64
)

// frame is one open construct of the scan: code (the file's body, a
// block, brackets, an interpolation), a quoted string or a heredoc.
type frame struct {
	kind  byte   // 'c' code, 's' quoted string, 'h' heredoc
	close byte   // code: the byte that ends it ('}', ']', ')'); 0 for the body
	term  []byte // heredoc: its closing marker
	cond  int    // code: conditionals (a ? b : c ? …) chained here
	ops   int    // code: operator bytes in the current element (1+1+…)
}

// scanner walks a file as far as the bounds need: it knows comments,
// strings, escapes, interpolations and heredocs well enough that brackets
// inside text are not counted, and leaves every other error to the parser.
type scanner struct {
	src       []byte
	i         int
	line, col int
	stack     []frame
	unary     int // ! and - in a row: each nests the parser once more
}

// Check reports a file too large or too deeply nested for the
// parser, at the line and column where the limit is crossed.
func Check(src []byte, filename string) hcl.Diagnostics {
	s := &scanner{src: src, line: 1, col: 1, stack: []frame{{kind: 'c'}}}
	if len(src) > MaxFileSize {
		s.advanceTo(MaxFileSize)
		return s.diag(filename, "Configuration file too large",
			fmt.Sprintf("it is larger than %d bytes (4 MiB), more than any director needs; refused before parsing so that a mistaken file cannot exhaust the daemon's memory", MaxFileSize))
	}
	for s.i < len(src) {
		if s.step() > MaxNesting {
			return s.diag(filename, "Nesting too deep",
				fmt.Sprintf("more than %d levels of blocks, brackets, interpolations or operators here; a configuration needs about 5. Refused before parsing, since the parser's stack would overflow", MaxNesting))
		}
	}
	return nil
}

func (s *scanner) diag(filename, summary, detail string) hcl.Diagnostics {
	pos := hcl.Pos{Line: s.line, Column: s.col, Byte: s.i}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  &hcl.Range{Filename: filename, Start: pos, End: pos},
	}}
}

// advanceTo moves the position to byte n, counting lines and columns
// (a column is a character, as in the parser's diagnostics).
func (s *scanner) advanceTo(n int) {
	for s.i < n && s.i < len(s.src) {
		if s.src[s.i] == '\n' {
			s.line, s.col = s.line+1, 1
		} else if utf8.RuneStart(s.src[s.i]) {
			s.col++
		}
		s.i++
	}
}

func (s *scanner) at(prefix string) bool { return bytes.HasPrefix(s.src[s.i:], []byte(prefix)) }

func (s *scanner) top() *frame { return &s.stack[len(s.stack)-1] }

func (s *scanner) push(f frame) { s.stack = append(s.stack, f) }

func (s *scanner) pop() {
	if len(s.stack) > 1 {
		s.stack = s.stack[:len(s.stack)-1]
	}
}

// step consumes one token's worth of input and returns the depth there.
// The position is left at the token that crossed the limit.
func (s *scanner) step() int {
	switch s.top().kind {
	case 's':
		return s.stepString()
	case 'h':
		return s.stepHeredoc()
	}
	return s.stepCode()
}

// depth is how deep the parser would be here: open constructs, chained
// conditionals and unary operators each nest it once, and so does each
// binary operator, since it builds a left-leaning tree that evaluation
// walks recursively (1+1+…). An operator is one or two bytes (+, ==, &&):
// two bytes count one level. A run of - counts once, as unary or binary.
func (s *scanner) depth() int {
	f := s.top()
	return len(s.stack) - 1 + f.cond + max(s.unary, f.ops/2)
}

func (s *scanner) stepCode() int {
	c, f := s.src[s.i], s.top()
	if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '!' && c != '-' {
		s.unary = 0
	}
	switch {
	case c == '#' || s.at("//"):
		s.advanceTo(s.lineEnd())
		return s.depth()
	case s.at("/*"):
		end := bytes.Index(s.src[s.i+2:], []byte("*/"))
		if end < 0 {
			s.advanceTo(len(s.src))
		} else {
			s.advanceTo(s.i + 2 + end + 2)
		}
		return s.depth()
	case s.at("<<"):
		if term, body, ok := s.heredocHeader(); ok {
			s.push(frame{kind: 'h', term: term})
			d := s.depth()
			if d <= MaxNesting {
				s.advanceTo(body)
			}
			return d
		}
	case c == '"':
		s.push(frame{kind: 's'})
	case c == '{' || c == '[' || c == '(':
		s.push(frame{kind: 'c', close: closer(c)})
	case c == '}' || c == ']' || c == ')':
		if f.kind == 'c' && f.close != 0 {
			s.pop()
		}
	case c == '!':
		s.unary++
	case c == '-': // unary in a run (- - 1), binary in a chain (1-1-…)
		s.unary++
		f.ops++
	case c == '?':
		f.cond++
	case bytes.IndexByte([]byte("+*/%<>=&|"), c) >= 0:
		f.ops++
	case c == ',' || c == '\n' && (f.close == 0 || f.close == '}'):
		f.cond, f.ops = 0, 0 // the next element or attribute starts afresh
	}
	d := s.depth()
	if d <= MaxNesting {
		s.advanceTo(s.i + 1)
	}
	return d
}

// closer is the bracket that ends the one opened by c.
func closer(c byte) byte {
	switch c {
	case '{':
		return '}'
	case '[':
		return ']'
	}
	return ')'
}

// lineEnd is the offset of the next newline, or the end of the file.
func (s *scanner) lineEnd() int {
	if n := bytes.IndexByte(s.src[s.i:], '\n'); n >= 0 {
		return s.i + n
	}
	return len(s.src)
}

// heredocHeader reads "<<EOF\n" or "<<-EOF\n" at the position: the
// marker, the offset of the body and whether it is one.
func (s *scanner) heredocHeader() (term []byte, body int, ok bool) {
	j := s.i + 2
	if j < len(s.src) && s.src[j] == '-' {
		j++
	}
	start := j
	for j < len(s.src) && (isIdentByte(s.src[j]) || j > start && s.src[j] == '-') {
		j++
	}
	if j == start || isDigit(s.src[start]) {
		return nil, 0, false
	}
	term = s.src[start:j]
	if j < len(s.src) && s.src[j] == '\r' {
		j++
	}
	if j >= len(s.src) || s.src[j] != '\n' {
		return nil, 0, false
	}
	return term, j + 1, true
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// templateStep handles what strings and heredocs share: escaped and real
// interpolations. It reports whether it consumed anything.
func (s *scanner) templateStep() (depth int, done bool) {
	switch {
	case s.at("$${") || s.at("%%{"):
		s.advanceTo(s.i + 3)
		return s.depth(), true
	case s.at("${") || s.at("%{"):
		s.push(frame{kind: 'c', close: '}'})
		d := s.depth()
		if d <= MaxNesting {
			s.advanceTo(s.i + 2)
		}
		return d, true
	}
	return 0, false
}

func (s *scanner) stepString() int {
	if d, ok := s.templateStep(); ok {
		return d
	}
	switch s.src[s.i] {
	case '\\':
		s.advanceTo(s.i + 2)
		return s.depth()
	case '"', '\n': // a newline ends a broken string: the parser says so
		s.pop()
	}
	s.advanceTo(s.i + 1)
	return s.depth()
}

func (s *scanner) stepHeredoc() int {
	if s.i == 0 || s.src[s.i-1] == '\n' {
		line := bytes.TrimRight(bytes.TrimLeft(s.src[s.i:s.lineEnd()], " \t"), "\r")
		if bytes.Equal(line, s.top().term) {
			s.pop()
			s.advanceTo(s.lineEnd())
			return s.depth()
		}
	}
	if d, ok := s.templateStep(); ok {
		return d
	}
	s.advanceTo(s.i + 1)
	return s.depth()
}
