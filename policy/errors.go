package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Error is one problem in a policy file, at the line and column (1-based,
// in characters) of the YAML node it is about.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// maxErrors bounds what one Parse reports: past it, a file is more wrong
// than a list of its faults helps with.
const maxErrors = 50

// joinErrors returns nil, the one error, or all of them in file order
// joined by errors.Join (whose Error puts each on its own line).
func joinErrors(errs []*Error) error {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Col < errs[j].Col
	})
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	if len(errs) > maxErrors {
		last := *errs[maxErrors-1]
		last.Msg = fmt.Sprintf("too many errors (%d); fix these first", len(errs))
		errs = append(errs[:maxErrors-1:maxErrors-1], &last)
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// scanText finds what the YAML parser would reject without saying
// where: bytes that are not UTF-8 and control characters YAML does not
// allow (YAML 1.2, 5.1: printable characters plus tab, LF, CR and NEL).
func scanText(file string, data []byte) *Error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return &Error{File: file, Line: line, Col: col, Msg: fmt.Sprintf("invalid UTF-8 byte 0x%02x; a policy is UTF-8 text", data[i])}
		case r == '\n':
			line, col = line+1, 0
		case r == '\t', r == '\r', r == 0x85, r == 0xfeff:
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r == 0xfffe, r == 0xffff:
			return &Error{File: file, Line: line, Col: col, Msg: fmt.Sprintf("control character %U is not allowed in YAML", r)}
		}
		i += size
		col++
	}
	return nil
}

// yamlLine is compiled on the first syntax error, not at every start of
// nsinspect.
var yamlLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
})

// syntaxError places a go.yaml.in/yaml/v3 syntax error. That parser names
// only a line (and none on the first), sometimes the one before the
// fault; a tab in the indentation near it is the usual cause and is
// placed exactly, anything else at the first character of the line.
func syntaxError(file string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLine().FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if strings.HasPrefix(msg, "did not find expected") {
		// A parser (not scanner) error: the line is 0-based, of the
		// start of the block or flow that is not closed as it should be.
		line++
		msg += " in the block or flow that starts here"
	}
	lines := splitLines(data)
	for l := max(line-1, 1); l <= line+1 && l <= len(lines); l++ {
		if c := indentTab(lines[l-1]); c > 0 {
			return &Error{File: file, Line: l, Col: c, Msg: "tab in indentation: YAML indents with spaces only (" + msg + ")"}
		}
	}
	line = min(max(line, 1), max(len(lines), 1))
	col := 1
	if line <= len(lines) {
		col = utf8.RuneCountInString(lines[line-1]) - utf8.RuneCountInString(strings.TrimLeft(lines[line-1], " ")) + 1
	}
	return &Error{File: file, Line: line, Col: col, Msg: "invalid YAML: " + msg}
}

// indentTab is the column of the first tab among a line's leading blanks,
// 0 if none.
func indentTab(s string) int {
	for i, r := range s {
		switch r {
		case ' ':
		case '\t':
			return utf8.RuneCountInString(s[:i]) + 1
		default:
			return 0
		}
	}
	return 0
}

func splitLines(data []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
