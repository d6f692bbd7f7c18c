package keepalived

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// This file reads keepalived.conf syntax into a tree of statements: a
// statement is a keyword with its arguments on one line, optionally
// followed by a block in braces. Comments start with '#' or '!' outside
// quotes; strings are quoted with " or ' (adjacent pieces join into one
// word, as keepalived does); `include` (and its includer/includem/…
// variants) splices in the files its glob names, relative to the
// including file's directory.

// kaPos is a place in a keepalived file.
type kaPos struct {
	File string
	Line int
}

func (p kaPos) String() string { return p.File + ":" + strconv.Itoa(p.Line) }

// kaNode is one statement of a keepalived file.
type kaNode struct {
	Key      string
	Args     []string
	Pos      kaPos
	Block    bool      // followed by { … }
	Children []*kaNode // the block's statements
	Comments []string  // comment lines before it, and a comment after it on its line
	Tail     []string  // comment lines at the end of its block, before the '}'
}

// words is the keyword and its arguments, as keepalived would print them.
func (n *kaNode) words() string {
	parts := append([]string{n.Key}, n.Args...)
	for i, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t\"'#!{}") {
			parts[i] = strconv.Quote(p)
		}
	}
	return strings.Join(parts, " ")
}

// kaError is a problem of the input at a place.
type kaError struct {
	Pos kaPos
	Msg string
}

func (e *kaError) Error() string { return e.Pos.String() + ": " + e.Msg }

type kaTokKind uint8

const (
	kaWord kaTokKind = iota
	kaOpen
	kaClose
	kaEOL
	kaComment
)

type kaToken struct {
	kind   kaTokKind
	text   string
	quoted bool
	pos    kaPos
}

// kaFS is what the reader needs of the file system; tests replace it.
type kaFS struct {
	read func(path string) ([]byte, error)
	glob func(pattern string) ([]string, error)
	// real resolves a path to its identity for cycle detection.
	real func(path string) string
}

var kaOS = kaFS{
	read: os.ReadFile,
	glob: filepath.Glob,
	real: func(p string) string {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	},
}

// kaReader turns files into one token stream with the includes spliced
// in, conditional lines resolved and parameters substituted
// (keepalived_params.go).
type kaReader struct {
	fs    kaFS
	stack []string // real paths of the files being read, outermost first
	names []string // the same files as named in the input
	notes []Note

	id       string              // keepalived's config id, for @ID lines
	usedID   bool                // a line depended on it
	params   map[string]*kaParam // by name, without the '$'
	cont     *kaParam            // the multi-line definition being read
	dropped  map[string][]string // definitions left out by a condition: "@ID at file:line"
	expanded int                 // lines produced by multi-line parameters
	work     int                 // bytes copied by substitutions
}

func newKAReader(fs kaFS, configID string) *kaReader {
	r := &kaReader{fs: fs, id: configID, dropped: map[string][]string{}}
	r.params = r.kaPredefined()
	return r
}

func (r *kaReader) file(path string, from kaPos) ([]kaToken, error) {
	real := r.fs.real(path)
	for i, s := range r.stack {
		if s == real {
			chain := append(append([]string{}, r.names[i:]...), path)
			return nil, &kaError{from, "include cycle: " + strings.Join(chain, " → ")}
		}
	}
	src, err := r.fs.read(path)
	if err != nil {
		if from.File == "" {
			return nil, err
		}
		return nil, &kaError{from, "include: " + err.Error()}
	}
	r.stack = append(r.stack, real)
	r.names = append(r.names, path)
	defer func() {
		r.stack = r.stack[:len(r.stack)-1]
		r.names = r.names[:len(r.names)-1]
	}()

	var out []kaToken
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	para := -1 // where the comment lines just above start in out
	for i, raw := range lines {
		pos := kaPos{path, i + 1}
		if r.cont != nil {
			r.continueDefinition(raw)
			continue
		}
		code, comment := kaSplitComment(raw)
		toks, kind, err := r.line(code, comment, pos)
		if err != nil {
			return nil, err
		}
		switch {
		case kind == kaLineDefinition && para >= 0:
			// The comments just above a definition are about it, and it
			// is not in the output.
			out, para = out[:para], -1
		case kind == kaLineDropped:
		case strings.Trim(code, kaBlanks) == "" && comment != "":
			if para < 0 {
				para = len(out)
			}
		default:
			para = -1
		}
		out = append(out, toks...)
	}
	r.endDefinition() // a multi-line definition ends with its file
	return out, nil
}

// words splits a line, preprocessed, into tokens; an include line is
// replaced by the tokens of the files it names.
func (r *kaReader) words(line string, pos kaPos) ([]kaToken, error) {
	toks, err := kaLex(line, pos)
	if err != nil {
		return nil, err
	}
	if len(toks) > 0 && toks[0].kind == kaWord && !toks[0].quoted && isInclude(toks[0].text) {
		return r.include(pos.File, toks, pos)
	}
	return append(toks, kaToken{kind: kaEOL, pos: pos}), nil
}

func isInclude(w string) bool {
	switch w {
	case "include", "includer", "includem", "includew", "includeb", "includea":
		return true
	}
	return false
}

// include reads the files an include line names, in glob order.
func (r *kaReader) include(from string, toks []kaToken, pos kaPos) ([]kaToken, error) {
	var args []string
	for _, t := range toks[1:] {
		if t.kind == kaWord {
			args = append(args, t.text)
		} else if t.kind != kaComment {
			return nil, &kaError{pos, "include: unexpected " + kaTokName(t)}
		}
	}
	if len(args) != 1 {
		return nil, &kaError{pos, "include takes one file name or pattern"}
	}
	pattern := args[0]
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(from), pattern)
	}
	patterns := braceExpand(pattern)
	if len(patterns) > maxBraceExpansion {
		return nil, &kaError{pos, fmt.Sprintf("include %s: the braces expand to more than %d patterns", args[0], maxBraceExpansion)}
	}
	var files []string
	for _, p := range patterns {
		m, err := r.fs.glob(p)
		if err != nil {
			return nil, &kaError{pos, "include " + args[0] + ": " + err.Error()}
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	files = dedupSorted(files)
	if len(files) == 0 {
		r.notes = append(r.notes, Note{File: pos.File, Line: pos.Line, Statement: toks[0].text,
			Text: fmt.Sprintf("%q matches no file; nothing included", args[0])})
	}
	var out []kaToken
	for _, f := range files {
		t, err := r.file(f, pos)
		if err != nil {
			return nil, err
		}
		out = append(out, t...)
	}
	return out, nil
}

func dedupSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// maxBraceExpansion bounds braceExpand, whose output grows exponentially
// with the number of brace groups.
const maxBraceExpansion = 1024

// braceExpand expands csh-style braces: "a{b,c}d" → "abd", "acd". It
// stops after a little more than maxBraceExpansion results.
func braceExpand(s string) []string {
	depth, open := 0, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			if depth == 0 {
				open = i
			}
			depth++
		case '}':
			if depth == 0 {
				continue
			}
			depth--
			if depth != 0 {
				continue
			}
			var alts []string
			d, start := 0, open+1
			for j := open + 1; j < i; j++ {
				switch s[j] {
				case '{':
					d++
				case '}':
					d--
				case ',':
					if d == 0 {
						alts = append(alts, s[start:j])
						start = j + 1
					}
				}
			}
			alts = append(alts, s[start:i])
			if len(alts) == 1 {
				continue // "{x}" is not an alternation
			}
			var out []string
			for _, a := range alts {
				if len(out) > maxBraceExpansion {
					break
				}
				out = append(out, braceExpand(s[:open]+a+s[i+1:])...)
			}
			return out
		}
	}
	return []string{s}
}

func kaTokName(t kaToken) string {
	switch t.kind {
	case kaOpen:
		return "'{'"
	case kaClose:
		return "'}'"
	case kaEOL:
		return "end of line"
	case kaComment:
		return "comment"
	}
	return strconv.Quote(t.text)
}

// kaLex splits one line into words, braces and a trailing comment.
func kaLex(line string, pos kaPos) ([]kaToken, error) {
	var toks []kaToken
	var word strings.Builder
	inWord, quoted := false, false
	flush := func() {
		if inWord {
			toks = append(toks, kaToken{kind: kaWord, text: word.String(), quoted: quoted, pos: pos})
		}
		word.Reset()
		inWord, quoted = false, false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r':
			flush()
		case c == '#' || c == '!':
			flush()
			text := strings.TrimRight(strings.TrimPrefix(line[i+1:], " "), " \t\r")
			toks = append(toks, kaToken{kind: kaComment, text: text, pos: pos})
			return toks, nil
		case c == '{' || c == '}':
			flush()
			kind := kaOpen
			if c == '}' {
				kind = kaClose
			}
			toks = append(toks, kaToken{kind: kind, pos: pos})
		case c == '"' || c == '\'':
			end := -1
			var b strings.Builder
			for j := i + 1; j < len(line); j++ {
				if line[j] == c {
					end = j
					break
				}
				if line[j] == '\\' && c == '"' && j+1 < len(line) {
					n, adv := unescapeKA(line[j+1:])
					b.WriteString(n)
					j += adv
					continue
				}
				b.WriteByte(line[j])
			}
			if end < 0 {
				return nil, &kaError{pos, "unterminated quoted string"}
			}
			word.WriteString(b.String())
			inWord, quoted = true, true
			i = end
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return toks, nil
}

// unescapeKA decodes the escape after a backslash in a double-quoted
// string, returning the text and how many bytes it used.
func unescapeKA(s string) (string, int) {
	switch s[0] {
	case 'a':
		return "\a", 1
	case 'b':
		return "\b", 1
	case 'E':
		return "\x1b", 1
	case 'f':
		return "\f", 1
	case 'n':
		return "\n", 1
	case 'r':
		return "\r", 1
	case 't':
		return "\t", 1
	case 'v':
		return "\v", 1
	case 'x':
		n := 1
		for n < len(s) && n < 3 && strings.IndexByte("0123456789abcdefABCDEF", s[n]) >= 0 {
			n++
		}
		if n == 1 {
			return "x", 1
		}
		v, _ := strconv.ParseUint(s[1:n], 16, 8)
		return string(rune(v)), n
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n := 0
		for n < len(s) && n < 3 && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint(s[:n], 8, 8)
		return string(rune(v)), n
	}
	return s[:1], 1
}

// kaParse builds the statement tree from the token stream.
func kaParse(toks []kaToken) (*kaNode, []string, error) {
	root := &kaNode{Block: true}
	stack := []*kaNode{root}
	var pending []kaToken
	var comments []string
	var last *kaNode // the last statement of the innermost open block, this line or earlier
	flush := func() *kaNode {
		if len(pending) == 0 {
			return nil
		}
		n := &kaNode{Key: pending[0].text, Pos: pending[0].pos, Comments: comments}
		for _, t := range pending[1:] {
			n.Args = append(n.Args, t.text)
		}
		top := stack[len(stack)-1]
		top.Children = append(top.Children, n)
		pending, comments = nil, nil
		last = n
		return n
	}
	for _, t := range toks {
		switch t.kind {
		case kaWord:
			pending = append(pending, t)
		case kaComment:
			if len(pending) > 0 {
				// A comment after a statement on its line goes with it.
				n := flush()
				n.Comments = append(n.Comments, t.text)
				continue
			}
			if last != nil && last.Pos == t.pos && !last.Block {
				last.Comments = append(last.Comments, t.text)
				continue
			}
			if top := stack[len(stack)-1]; last == nil && top.Pos == t.pos && len(stack) > 1 {
				top.Comments = append(top.Comments, t.text) // "vrrp_instance VI_1 { # comment"
				continue
			}
			comments = append(comments, t.text)
		case kaOpen:
			n := flush()
			if n == nil {
				// A brace on its own line opens the block of the statement before.
				if last == nil || last.Block {
					return nil, nil, &kaError{t.pos, "'{' without a keyword before it"}
				}
				n = last
			}
			n.Block = true
			stack = append(stack, n)
			last = nil
		case kaClose:
			flush()
			if len(stack) == 1 {
				return nil, nil, &kaError{t.pos, "unexpected '}': no block is open here"}
			}
			top := stack[len(stack)-1]
			top.Tail, comments = comments, nil
			stack = stack[:len(stack)-1]
			last = top
		case kaEOL:
			flush()
		}
	}
	flush()
	if len(stack) > 1 {
		open := stack[len(stack)-1]
		return nil, nil, &kaError{open.Pos, fmt.Sprintf("the block of %q opened here is never closed: a '}' is missing", open.Key)}
	}
	return root, comments, nil
}

// splitCommand splits a keepalived script string into argv the way
// keepalived does before it calls execve: words separated by blanks,
// quotes grouping words, a backslash escaping the next character.
func splitCommand(s string) ([]string, error) {
	var out []string
	var w strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, w.String())
				w.Reset()
				in = false
			}
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			in = true
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c quote in %q", c, s)
			}
			w.WriteString(s[i+1 : i+1+end])
			i += end + 1
			in = true
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, w.String())
	}
	return out, nil
}

// shellish reports whether argv holds shell syntax that only a shell
// would interpret: pipes, redirections, lists, expansions, globs.
func shellish(argv []string) bool {
	if len(argv) >= 2 && (filepath.Base(argv[0]) == "sh" || filepath.Base(argv[0]) == "bash") && argv[1] == "-c" {
		return false // already an explicit shell
	}
	for _, a := range argv {
		switch a {
		case "|", "||", "&&", ";", "&", ">", ">>", "<", "2>&1":
			return true
		}
		if strings.ContainsAny(a, "|;&<>`$*?") || strings.HasPrefix(a, "~") {
			return true
		}
	}
	return false
}
