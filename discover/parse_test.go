package discover

import (
	"encoding/binary"
	"reflect"
	"testing"
)

// Directory entry names: pids, tids and fd numbers as the kernel prints
// them, and nothing else.
func TestParseUint(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"4242", 4242, true},
		{"18446744073709551615", 1<<64 - 1, true}, {"18446744073709551616", 0, false},
		{"", 0, false}, {"01", 0, false}, {"-1", 0, false}, {"+1", 0, false},
		{"self", 0, false}, {"12a", 0, false}, {"thread-self", 0, false},
	} {
		if got, ok := parseUint([]byte(c.in)); got != c.want || ok != c.ok {
			t.Errorf("parseUint(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestEachDirent(t *testing.T) {
	rec := func(name string) []byte {
		n := (19 + len(name) + 1 + 7) &^ 7
		b := make([]byte, n)
		binary.NativeEndian.PutUint16(b[16:], uint16(n))
		copy(b[19:], name)
		return b
	}
	var buf []byte
	for _, n := range []string{".", "..", "1", "4242", "self"} {
		buf = append(buf, rec(n)...)
	}
	var got []string
	if err := eachDirent(buf, func(n []byte) { got = append(got, string(n)) }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"1", "4242", "self"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := eachDirent(buf[:len(buf)-3], func([]byte) {}); err == nil {
		t.Error("truncated record: want an error")
	}
}

func FuzzEachDirent(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 24))
	f.Fuzz(func(t *testing.T, b []byte) {
		eachDirent(b, func(name []byte) {
			if len(name) > len(b) {
				t.Fatalf("name longer than the buffer")
			}
		})
	})
}
