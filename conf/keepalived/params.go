package keepalived

import (
	"fmt"
	"path/filepath"
	"strings"
)

// This file is keepalived's line preprocessing, applied to every line as
// it is read (so also inside included files), before the line is split
// into words. The rules are those of keepalived.conf(5), sections
// "Conditional configuration and configuration id" and "Parameter
// substitution", checked against keepalived's lib/parser.c (read_line,
// check_definition, replace_param):
//
//   - "@ID rest" is read as "rest" only when the config id (keepalived -i,
//     default the host name up to its first dot) is ID; "@^ID rest" only
//     when it is not. A line with nothing after the id is dropped.
//   - "$NAME=VALUE" as a whole line (no blank before '=') defines NAME;
//     the definition may itself be behind a condition. A VALUE ending in
//     '\' continues on the next lines (a multi-line definition) until a
//     line without one, or an empty line.
//   - In later lines "$NAME" followed by a blank, ',', ')' or the end of the
//     line, and "${NAME}" anywhere, are replaced by VALUE; the replacement
//     is scanned again, so a value may use other parameters, as they are
//     when it is used. A multi-line value may only end a line: its first
//     line takes the place of the reference, the others follow as lines
//     of their own.
//   - ${_PWD}, ${_INSTANCE}, ${_HASH} and ${_BANG} are predefined.
//
// Where the importer is stricter than keepalived: keepalived keeps a
// reference to an undefined parameter as written. Outside quotes that is
// almost always a typo, or a definition left out for this config id, so
// it is an error here; inside a quoted string (a script's shell
// variable) it is kept, as keepalived does, with a note. ~SEQ and ~LST
// blocks, ${_RANDOM} and ${_ENV} are refused: they do not convert to one
// fixed file.

// kaParam is a parameter of a keepalived file.
type kaParam struct {
	lines []string // the value; more than one line: a multi-line definition
	multi bool
	pos   kaPos
	fn    func(pos kaPos) (string, error) // a predefined parameter
	args  bool                            // it takes arguments: ${_ENV NAME}
}

const (
	// maxSubstitutions bounds the replacements in one line, so that a
	// parameter using itself is reported rather than followed forever.
	maxSubstitutions = 1000
	// maxLineLength bounds a line grown by substitution.
	maxLineLength = 64 << 10
	// maxExpansionDepth bounds multi-line parameters used within one
	// another; maxExpandedLines the lines they produce in all.
	maxExpansionDepth = 64
	maxExpandedLines  = 100000
	// maxSubstitutionWork bounds the text all substitutions of a file
	// copy, so that a small file cannot make a huge one.
	maxSubstitutionWork = 64 << 20
)

// kaPredefined are keepalived's predefined parameters, which a
// definition in the file overrides.
func (r *kaReader) kaPredefined() map[string]*kaParam {
	fixed := func(v string) *kaParam {
		return &kaParam{fn: func(kaPos) (string, error) { return v, nil }}
	}
	refuse := func(what string) *kaParam {
		return &kaParam{args: true, fn: func(kaPos) (string, error) {
			return "", fmt.Errorf("%s is not supported by the importer; define a parameter with the value instead", what)
		}}
	}
	return map[string]*kaParam{
		"_PWD": {fn: func(pos kaPos) (string, error) {
			dir, err := filepath.Abs(filepath.Dir(pos.File))
			if err != nil {
				return "", fmt.Errorf("${_PWD}: %v", err)
			}
			return dir, nil
		}},
		"_INSTANCE": {fn: func(kaPos) (string, error) { r.usedID = true; return r.id, nil }},
		"_HASH":     fixed("#"),
		"_BANG":     fixed("!"),
		"_RANDOM":   refuse("${_RANDOM}, a new random number each time keepalived reads its file,"),
		"_ENV":      refuse("${_ENV}, a variable of the environment keepalived runs in, which the importer cannot see,"),
	}
}

const kaBlanks = " \t\v\f\r"

// kaSplitComment splits a line into its statement and its comment (from
// the '#' or '!' on), with the quoting rules of kaLex.
func kaSplitComment(line string) (code, comment string) {
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '#', '!':
			return line[:i], line[i:]
		case '"', '\'':
			i = kaQuoteEnd(line, i)
		}
	}
	return line, ""
}

// kaQuoteEnd is the index of the quote closing the one at line[i], or the
// last index when it is not closed.
func kaQuoteEnd(line string, i int) int {
	q := line[i]
	for j := i + 1; j < len(line); j++ {
		switch {
		case line[j] == q:
			return j
		case line[j] == '\\' && q == '"':
			j++
		}
	}
	return len(line) - 1
}

func isParamStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isParamChar(c byte) bool { return isParamStart(c) || c >= '0' && c <= '9' }

// kaDefinition recognises "$NAME=VALUE". The value is trimmed; multi
// reports a trailing '\', which it no longer has.
func kaDefinition(code string) (name, value string, multi, ok bool) {
	if len(code) < 3 || code[0] != '$' || !isParamStart(code[1]) {
		return "", "", false, false
	}
	i := 2
	for i < len(code) && isParamChar(code[i]) {
		i++
	}
	if i == len(code) || code[i] != '=' {
		return "", "", false, false
	}
	value = strings.Trim(code[i+1:], kaBlanks)
	if strings.HasSuffix(value, `\`) {
		return code[1:i], strings.TrimRight(strings.TrimSuffix(value, `\`), kaBlanks), true, true
	}
	return code[1:i], value, false, true
}

// condition applies the @ID and @^ID prefixes of a line: it returns the
// rest of the line, or false when the line is not for this config id.
// Prefixes in a row must all hold (keepalived reads only the first; a
// second one would be an unknown keyword there).
func (r *kaReader) condition(code string, pos kaPos) (string, bool, error) {
	for {
		code = strings.TrimLeft(code, kaBlanks)
		if !strings.HasPrefix(code, "@") {
			return code, true, nil
		}
		r.usedID = true
		neg := strings.HasPrefix(code, "@^")
		rest := code[1:]
		if neg {
			rest = code[2:]
		}
		end := strings.IndexAny(rest, " \t")
		if end < 0 {
			return "", false, nil // nothing after the id
		}
		id, rest := rest[:end], strings.TrimLeft(rest[end:], kaBlanks)
		if (id == r.id) == neg {
			prefix := strings.TrimRight(code[:len(code)-len(rest)], kaBlanks)
			if name, _, multi, ok := kaDefinition(rest); ok {
				if multi {
					return "", false, &kaError{pos, fmt.Sprintf("the multi-line definition of $%s is behind %s, which does not hold for config id %q: keepalived then reads its continuation lines as configuration; put the condition on the lines inside the value instead", name, prefix, r.id)}
				}
				r.dropped[name] = append(r.dropped[name], prefix+" at "+pos.String())
			}
			return "", false, nil
		}
		code = rest
	}
}

// define stores a definition; a multi-line one takes the next lines.
func (r *kaReader) define(name, value string, multi bool, pos kaPos) {
	p := &kaParam{pos: pos, multi: multi}
	if value != "" || !multi {
		p.lines = []string{value}
	}
	r.params[name] = p
	if multi {
		r.cont = p
	}
}

// continueDefinition adds a raw line to the multi-line definition being
// read, as keepalived does: comments and blanks around the line go, an
// empty line or one without a trailing '\' ends the definition.
func (r *kaReader) continueDefinition(raw string) {
	if raw == "" {
		r.endDefinition()
		return
	}
	code, _ := kaSplitComment(raw)
	code = strings.Trim(code, kaBlanks)
	if code == "" {
		return // a comment or blank line inside the definition
	}
	if strings.HasSuffix(code, `\`) {
		if code = strings.TrimRight(strings.TrimSuffix(code, `\`), kaBlanks); code != "" {
			r.cont.lines = append(r.cont.lines, code)
		}
		return
	}
	r.cont.lines = append(r.cont.lines, code)
	r.endDefinition()
}

func (r *kaReader) endDefinition() {
	if r.cont != nil && len(r.cont.lines) == 0 {
		r.cont.lines, r.cont.multi = []string{""}, false
	}
	r.cont = nil
}

// kaRef is a parameter reference found at a '$'.
type kaRef struct {
	name string
	end  int  // index after the reference
	args bool // "${NAME args}", which only predefined parameters take
}

// kaReference parses the reference at s[i] == '$', as keepalived
// recognises one; ok is false when the text is not one.
func kaReference(s string, i int) (kaRef, bool) {
	j := i + 1
	braces := j < len(s) && s[j] == '{'
	if braces {
		j++
	}
	if j >= len(s) || !isParamStart(s[j]) {
		return kaRef{}, false
	}
	start := j
	for j < len(s) && isParamChar(s[j]) {
		j++
	}
	ref := kaRef{name: s[start:j]}
	if !braces {
		if j < len(s) && !strings.ContainsRune(" \t,)", rune(s[j])) {
			return kaRef{}, false // "$NAME/24": keepalived wants ${NAME}/24
		}
		ref.end = j
		return ref, true
	}
	argStart := j
	for j < len(s) && (s[j] == ' ' || s[j] == '\t' || isParamChar(s[j])) {
		j++
	}
	if j >= len(s) || s[j] != '}' || j > argStart && (s[j-1] == ' ' || s[j-1] == '\t') {
		return kaRef{}, false
	}
	ref.args = j > argStart
	ref.end = j + 1
	return ref, true
}

// substitute replaces the parameter references in code. A multi-line
// value used at the end of the line leaves its further lines in rest, to
// be read after this one.
func (r *kaReader) substitute(code string, pos kaPos) (out string, rest []string, changed bool, err error) {
	n := 0
	inQuote := byte(0)
	for i := 0; i < len(code); i++ {
		c := code[i]
		if inQuote != 0 {
			switch {
			case c == inQuote:
				inQuote = 0
				continue
			case c == '\\' && inQuote == '"':
				i++
				continue
			}
		} else if c == '"' || c == '\'' {
			inQuote = c
			continue
		}
		if c != '$' {
			continue
		}
		ref, ok := kaReference(code, i)
		if !ok {
			continue
		}
		written := code[i:ref.end]
		p := r.params[ref.name]
		if ref.args && (p == nil || !p.args) {
			continue // keepalived leaves "${NAME args}" as it is
		}
		if p == nil {
			if inQuote != 0 {
				r.notes = append(r.notes, Note{File: pos.File, Line: pos.Line, Statement: written,
					Text: "not a defined parameter: kept as written, as keepalived does (a shell variable of the script?)"})
				continue
			}
			return "", nil, false, r.undefined(ref, written, pos)
		}
		var value string
		switch {
		case p.fn != nil:
			if value, err = p.fn(pos); err != nil {
				return "", nil, false, &kaError{pos, err.Error()}
			}
		case p.multi:
			if strings.Trim(code[ref.end:], kaBlanks) != "" {
				return "", nil, false, &kaError{pos, fmt.Sprintf("%s holds several lines (defined at %s): it can only stand at the end of a line", written, p.pos)}
			}
			if len(p.lines) > 0 {
				value = p.lines[0]
				// Lines of a value used within a value come before the
				// rest of the outer one.
				rest = append(append([]string{}, p.lines[1:]...), rest...)
			}
		default:
			value = p.lines[0]
		}
		code = code[:i] + value + code[ref.end:]
		changed = true
		if n++; n > maxSubstitutions || len(code) > maxLineLength {
			return "", nil, false, &kaError{pos, fmt.Sprintf("parameter substitution does not end (more than %d replacements, or a line over %d KiB): does $%s use itself?", maxSubstitutions, maxLineLength>>10, ref.name)}
		}
		if r.work += len(code); r.work > maxSubstitutionWork {
			return "", nil, false, &kaError{pos, fmt.Sprintf("parameters expand to more than %d MiB of text", maxSubstitutionWork>>20)}
		}
		i-- // the value is read again: it may use parameters
	}
	return code, rest, changed, nil
}

// undefined is the error for a reference to a parameter not defined.
func (r *kaReader) undefined(ref kaRef, written string, pos kaPos) error {
	msg := fmt.Sprintf("%s is not defined", written)
	if d := r.dropped[ref.name]; len(d) > 0 {
		msg += fmt.Sprintf(" for config id %q: it is defined only for other ids (%s)", r.id, strings.Join(d, ", "))
	} else {
		msg += fmt.Sprintf(" before this line: define it with $%s=value (keepalived would keep the text %q as it is)", ref.name, written)
	}
	return &kaError{pos, msg}
}

// kaLineKind is what became of a line.
type kaLineKind uint8

const (
	kaLineRead       kaLineKind = iota // words, or nothing but blanks and comments
	kaLineDropped                      // for another config id
	kaLineDefinition                   // a parameter definition
)

// line reads one line of a file: conditions, definitions, substitution,
// then words; an include is followed.
func (r *kaReader) line(code, comment string, pos kaPos) ([]kaToken, kaLineKind, error) {
	code, keep, err := r.condition(code, pos)
	if err != nil || !keep {
		return nil, kaLineDropped, err
	}
	if name, value, multi, ok := kaDefinition(code); ok {
		r.define(name, value, multi, pos)
		return nil, kaLineDefinition, nil
	}
	toks, err := r.statement(code, comment, pos, 0)
	return toks, kaLineRead, err
}

// statement reads a line that is not a definition, or a line of a
// multi-line value (depth > 0), which may also be a definition.
func (r *kaReader) statement(code, comment string, pos kaPos, depth int) ([]kaToken, error) {
	if depth > 0 {
		var keep bool
		var err error
		if code, keep, err = r.condition(code, pos); err != nil || !keep {
			return nil, err
		}
		if name, value, _, ok := kaDefinition(code); ok {
			r.define(name, value, false, pos)
			return nil, nil
		}
	}
	if strings.HasPrefix(code, "$") {
		if i := strings.IndexAny(code, "="+kaBlanks); i > 0 && code[i] != '=' && strings.HasPrefix(strings.TrimLeft(code[i:], kaBlanks), "=") {
			return nil, &kaError{pos, fmt.Sprintf("%s: a parameter definition takes no blank before '='", strings.TrimRight(code[:i], kaBlanks))}
		}
	}
	if err := kaRefuseBlocks(code, pos); err != nil {
		return nil, err
	}
	code, rest, changed, err := r.substitute(code, pos)
	if err != nil {
		return nil, err
	}
	var out []kaToken
	keep := true
	if changed {
		// A value may hold a condition (keepalived.conf(5): "$IF_MAIN=@main").
		code, keep, err = r.condition(code, pos)
		if err != nil {
			return nil, err
		}
		if err := kaRefuseBlocks(code, pos); err != nil {
			return nil, err
		}
	}
	if keep {
		if out, err = r.words(code+comment, pos); err != nil {
			return nil, err
		}
	}
	for _, l := range rest {
		if depth >= maxExpansionDepth {
			return nil, &kaError{pos, fmt.Sprintf("multi-line parameters are used within one another more than %d deep: does one use itself?", maxExpansionDepth)}
		}
		if r.expanded++; r.expanded > maxExpandedLines {
			return nil, &kaError{pos, fmt.Sprintf("multi-line parameters expand to more than %d lines", maxExpandedLines)}
		}
		toks, err := r.statement(l, "", pos, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, toks...)
	}
	return out, nil
}

// kaRefuseBlocks refuses keepalived's ~SEQ and ~LST lines, which repeat
// a line over a sequence or list of values.
func kaRefuseBlocks(code string, pos kaPos) error {
	for _, b := range []string{"~SEQ", "~LST"} {
		if strings.HasPrefix(code, b) {
			return &kaError{pos, b + " blocks are not supported by the importer: write out the lines they stand for"}
		}
	}
	return nil
}
