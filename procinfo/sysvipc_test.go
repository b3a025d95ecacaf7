package procinfo

import (
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
		if got := parseFixture(t, "sysvipc/"+c.file, ParseSysvipc); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: got %+v; want [%+v]", c.file, got, c.want)
		}
	}
}

func TestParseSysvipcBad(t *testing.T) {
	wantErrParse(t, "ParseSysvipc", ParseSysvipc, "", "nonsense\n", "key shmid perms uid\n1 2\n", "key shmid perms uid\nx 2 644 0\n")
	got, err := ParseSysvipc(strings.NewReader("       key      shmid perms  uid\n"))
	if err != nil || len(got) != 0 {
		t.Errorf("header only: %v, %v", got, err)
	}
}

func FuzzParseSysvipc(f *testing.F) {
	fuzzParser(f, "sysvipc/*", ParseSysvipc, func(t *testing.T, _ string, objs []IPCObject) {
		if objs == nil {
			t.Fatal("nil slice without error")
		}
	})
}
