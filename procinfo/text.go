package procinfo

import (
	"bufio"
	"bytes"
	"io"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The parsers work on the bytes of a whole /proc file, read into a pooled
// buffer: by the readers through the pinned directory (readWith), by the
// exported io.Reader parsers from their reader (parseReader). The buffer
// is reused once the parser returns, so a parser copies (string(b))
// whatever it keeps, and the readers make no garbage beyond what they
// return.

// bufPool holds read buffers. Most /proc files fit the first 4 KiB; a
// buffer that had to grow (a long mountinfo) is kept grown, up to
// maxPooledBuf, beyond which it is left to the collector.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

const maxPooledBuf = 256 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf returns b, the buffer got from bp (grown or not), to the pool.
func putBuf(bp *[]byte, b []byte) {
	if cap(b) <= maxPooledBuf {
		*bp = b[:0]
		bufPool.Put(bp)
	}
}

// grow makes room for at least one more read at the end of b, doubling
// its capacity when it is full.
func grow(b []byte) []byte {
	if len(b) < cap(b) {
		return b
	}
	return append(b, make([]byte, max(cap(b), 512))...)[:len(b)]
}

// parseReader reads r to its end, as io.ReadAll does, and parses what it
// read. The error of a read that stopped short goes to parse, which
// reports it after the lines read before it, as bufio.Scanner did.
func parseReader[T any](r io.Reader, parse func(text []byte, readErr error) (T, error)) (T, error) {
	bp := getBuf()
	b := (*bp)[:0]
	var err error
	for {
		b = grow(b)
		var n int
		n, err = r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			break
		}
	}
	defer putBuf(bp, b)
	return parse(b, err)
}

// lines splits text into lines exactly as a bufio.Scanner with ScanLines
// does, so that the parsers say what they said when they scanned an
// io.Reader: a line ends at "\n" or at the end of the text, a "\r" before
// its end is dropped, and a line of max bytes or more (the scanner's
// buffer limit, bufio.MaxScanTokenSize unless the parser raised it) stops
// the scan with bufio.ErrTooLong. err is then that error, or else the
// error of the read that ended text (nil for a whole file). start is
// where line starts in the text, for a parser that copies the text into
// one string and slices its lines out of that.
type lines struct {
	text  []byte
	max   int
	line  []byte
	start int
	err   error
	done  int // bytes of text before the rest
}

func (l *lines) scan() bool {
	if l.done == len(l.text) {
		return false
	}
	line, _, found := bytes.Cut(l.text[l.done:], []byte{'\n'})
	if len(line) >= l.max {
		l.done, l.err = len(l.text), bufio.ErrTooLong
		return false
	}
	l.start = l.done
	l.done += len(line)
	if found {
		l.done++
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	l.line = line
	return true
}

// in returns the current line as a slice of all, a string copy of the
// whole text.
func (l *lines) in(all string) string { return all[l.start : l.start+len(l.line)] }

// perLine returns an empty slice with room for one T per line of text,
// so that a parser appends without growing it; nil for no text.
func perLine[T any](text []byte) []T {
	if len(text) == 0 {
		return nil
	}
	return make([]T, 0, bytes.Count(text, []byte{'\n'})+1)
}

// orNil is s, or nil when s is empty: what a parser that appended to a
// nil slice returned when no line gave it an element.
func orNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// asciiSpace is the white space strings.Fields splits on below
// utf8.RuneSelf.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// fields splits s around runs of white space (unicode.IsSpace) exactly as
// strings.Fields and bytes.Fields do, appending the fields to dst, which
// a caller backs with an array on its stack so that a line's few fields
// cost no allocation.
func fields[S ~string | ~[]byte](s S, dst []S) []S {
	start := -1
	for i := 0; i < len(s); {
		c, size := s[i], 1
		space := c < utf8.RuneSelf && asciiSpace[c]
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			space = unicode.IsSpace(r)
		}
		switch {
		case space && start >= 0:
			dst = append(dst, s[start:i])
			start = -1
		case !space && start < 0:
			start = i
		}
		i += size
	}
	if start >= 0 {
		dst = append(dst, s[start:])
	}
	return dst
}
