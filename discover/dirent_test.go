package discover

import (
	"encoding/binary"
	"reflect"
	"testing"
)

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
