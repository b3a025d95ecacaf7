package procinfo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// The parsers scanned an io.Reader with bufio.Scanner before they split
// the bytes themselves; these fuzz targets hold the splitting to what the
// scanner and strings.Fields do, so that every parser still says what it
// said.

var errRead = errors.New("read failed")

// FuzzLines: lines yields the lines, and the error, that a Scanner with
// the same buffer limit yields, also when the reader fails after the text.
func FuzzLines(f *testing.F) {
	for _, s := range []string{"", "\n", "a", "a\n", "a\r\nb", "\r", "ab\ncd\r\n\n", "abcdefgh\nx", "abc\ndefghijklmnop"} {
		f.Add(s, uint8(3), false)
		f.Add(s, uint8(8), true)
	}
	f.Fuzz(func(t *testing.T, in string, limit uint8, failRead bool) {
		max := int(limit)%24 + 1
		var r io.Reader = strings.NewReader(in)
		var readErr error
		if failRead {
			r, readErr = io.MultiReader(r, iotest.ErrReader(errRead)), errRead
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, max)
		var want []string
		for sc.Scan() {
			want = append(want, sc.Text())
		}
		var got []string
		l := lines{text: []byte(in), max: max, err: readErr}
		for l.scan() {
			got = append(got, string(l.line))
		}
		if !reflect.DeepEqual(got, want) || l.err != sc.Err() {
			t.Fatalf("%q with limit %d: lines %q, %v; the scanner's %q, %v", in, max, got, l.err, want, sc.Err())
		}
	})
}

// FuzzFields: fields splits as strings.Fields and bytes.Fields do.
func FuzzFields(f *testing.F) {
	for _, s := range []string{"", " ", "a b", " a\tb\n", "a\u00a0b", "a\u0085b\u2003c", "\xff \xc2", "0 0 4294967295"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf [2]string
		if got, want := fields(s, buf[:0]), strings.Fields(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("fields(%q) = %q, strings.Fields %q", s, got, want)
		}
		got, want := fields([]byte(s), nil), bytes.Fields([]byte(s))
		if len(got) != len(want) {
			t.Fatalf("fields(%q) = %q, bytes.Fields %q", s, got, want)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("fields(%q) = %q, bytes.Fields %q", s, got, want)
			}
		}
	})
}

// A parser given a reader that fails reports the failure as ErrParse, as
// it did with the scanner; a line the scanner could not hold is refused.
func TestParseReaderErrors(t *testing.T) {
	r := io.MultiReader(strings.NewReader("Name:\tsleep\n"), iotest.ErrReader(errRead))
	if _, err := ParseStatus(r); !errors.Is(err, ErrParse) || !strings.Contains(err.Error(), errRead.Error()) {
		t.Errorf("status from a failing reader: %v", err)
	}
	long := "Name:\t" + strings.Repeat("x", bufio.MaxScanTokenSize) + "\n"
	if _, err := ParseStatus(strings.NewReader(long)); !errors.Is(err, ErrParse) || !strings.Contains(err.Error(), bufio.ErrTooLong.Error()) {
		t.Errorf("status with a %d-byte line: %v", len(long), err)
	}
	mount := "1 2 0:3 / /" + strings.Repeat("x", bufio.MaxScanTokenSize) + " rw - tmpfs none rw\n"
	if ms, err := ParseMountInfo(strings.NewReader(mount)); err != nil || len(ms) != 1 {
		t.Errorf("mountinfo with a %d-byte line: %d mounts, %v; its limit is 1 MiB", len(mount), len(ms), err)
	}
}

// What a parser returns is its own: parsing other text into the reused
// buffers afterwards changes none of it.
func TestParsersCopy(t *testing.T) {
	garbage := strings.Repeat("x:y z\n", 600) // fits the buffer the fixture was read into
	for _, tc := range []struct {
		file  string
		parse func(io.Reader) (any, error)
	}{
		{"status/self", func(r io.Reader) (any, error) { return ParseStatus(r) }},
		{"fdinfo/inotify", func(r io.Reader) (any, error) { return ParseFDInfo(r) }},
		{"mountinfo/space-deleted", func(r io.Reader) (any, error) { return ParseMountInfo(r) }},
		{"cgroup/hybrid", func(r io.Reader) (any, error) { return ParseCgroup(r) }},
		{"idmap/two-ranges", func(r io.Reader) (any, error) { return ParseIDMap(r) }},
		{"sysvipc/shm", func(r io.Reader) (any, error) { return ParseSysvipc(r) }},
	} {
		v, err := tc.parse(bytes.NewReader(fixture(t, tc.file)))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		want := fmt.Sprintf("%+v", v)
		for range 4 {
			tc.parse(strings.NewReader(garbage))
		}
		if got := fmt.Sprintf("%+v", v); got != want {
			t.Errorf("%s: what was parsed changed when the buffer was reused:\n got %s\nwant %s", tc.file, got, want)
		}
	}
}
