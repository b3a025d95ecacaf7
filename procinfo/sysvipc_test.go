package procinfo

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseSysvipcFixtures(t *testing.T) {
	cases := []struct {
		file string
		want IPCObject
	}{
		{"shm", IPCObject{Key: -1678351283, ID: 0, Perms: "644", UID: 0}},
		{"sem", IPCObject{Key: 1492204033, ID: 55, Perms: "644", UID: 0}},
		{"msg", IPCObject{Key: 1733588796, ID: 0, Perms: "644", UID: 0}},
	}
	for _, c := range cases {
		f, err := os.Open("testdata/sysvipc/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseSysvipc(f)
		f.Close()
		if err != nil || len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: got %+v, %v; want [%+v]", c.file, got, err, c.want)
		}
	}
}

func TestParseSysvipcBad(t *testing.T) {
	for _, in := range []string{"", "nonsense\n", "key shmid perms uid\n1 2\n", "key shmid perms uid\nx 2 644 0\n"} {
		if _, err := ParseSysvipc(strings.NewReader(in)); !errors.Is(err, ErrParse) {
			t.Errorf("ParseSysvipc(%q): got %v, want ErrParse", in, err)
		}
	}
	got, err := ParseSysvipc(strings.NewReader("       key      shmid perms  uid\n"))
	if err != nil || len(got) != 0 {
		t.Errorf("header only: %v, %v", got, err)
	}
}

func FuzzParseSysvipc(f *testing.F) {
	for _, name := range []string{"shm", "sem", "msg"} {
		b, err := os.ReadFile("testdata/sysvipc/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		objs, err := ParseSysvipc(strings.NewReader(s))
		if err != nil && !errors.Is(err, ErrParse) {
			t.Fatalf("error not ErrParse: %v", err)
		}
		if err == nil && objs == nil {
			t.Fatal("nil slice without error")
		}
	})
}
