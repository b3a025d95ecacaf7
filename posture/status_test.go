package posture

import (
	"errors"
	"strings"
	"testing"
)

var dockerDefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
}

func TestParseStatusFixtures(t *testing.T) {
	for _, tc := range []struct {
		fixture       string
		eff, bnd      []string // nil: not checked
		effCount      int
		nnp           bool
		nnpErr        bool
		mode          string
		filters       int
		capErr        bool
		seccompAbsent bool
	}{
		{fixture: "docker-default", eff: dockerDefaultCaps, bnd: dockerDefaultCaps, effCount: 14, mode: "filter", filters: 1},
		{fixture: "docker-readonly", eff: dockerDefaultCaps, effCount: 14, mode: "filter", filters: 1},
		{fixture: "docker-fuse", eff: dockerDefaultCaps, effCount: 14, mode: "filter", filters: 1},
		// --cap-add ALL --cap-drop SYS_RESOURCE: Docker's ALL stops at
		// CAP_AUDIT_READ (37); PERFMON, BPF and CHECKPOINT_RESTORE are not in it.
		{fixture: "docker-privileged-equiv", effCount: 37, mode: "disabled", filters: 0},
		// The VM's PID 1: every capability but CAP_SYS_RESOURCE in the bounding set.
		{fixture: "host-init", effCount: 41, mode: "disabled", filters: 0},
		{fixture: "edited-pre-5.9", eff: dockerDefaultCaps, effCount: 14, mode: "filter", filters: -1},
		{fixture: "edited-pre-4.3", effCount: 41, capErr: true, nnpErr: true, seccompAbsent: true, filters: -1},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			name := "status/" + tc.fixture
			s, err := ParseStatus(fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			file := "/proc/42/status"
			c := s.Capabilities(file)
			if tc.eff != nil && !sameStrings(c.Effective, tc.eff) {
				t.Errorf("effective = %v, want %v", c.Effective, tc.eff)
			}
			if tc.bnd != nil && !sameStrings(c.Bounding, tc.bnd) {
				t.Errorf("bounding = %v, want %v", c.Bounding, tc.bnd)
			}
			if len(c.Effective) != tc.effCount {
				t.Errorf("%d effective capabilities, want %d: %v", len(c.Effective), tc.effCount, c.Effective)
			}
			if (c.Err != "") != tc.capErr {
				t.Errorf("capabilities error %q, want error: %v", c.Err, tc.capErr)
			}
			for _, e := range c.Evidence {
				if e.File != file || e.Line != lineOf(t, name, e.Text) || !strings.HasPrefix(e.Text, "Cap") {
					t.Errorf("capability evidence %+v does not point at its line", e)
				}
			}
			if c.Inheritable == nil || c.Ambient == nil {
				t.Errorf("an empty set must be [], not null: %+v", c)
			}
			n := s.NoNewPrivsFlag(file)
			if n.Value != tc.nnp || (n.Err != "") != tc.nnpErr {
				t.Errorf("no_new_privs = %+v, want %v (error %v)", n, tc.nnp, tc.nnpErr)
			}
			if !tc.nnpErr && (len(n.Evidence) != 1 || n.Evidence[0].Line != lineOf(t, name, n.Evidence[0].Text)) {
				t.Errorf("no_new_privs evidence %+v", n.Evidence)
			}
			sc := s.SeccompMode(file)
			if sc.Mode != tc.mode || sc.Filters != tc.filters || (sc.Err != "") != tc.seccompAbsent {
				t.Errorf("seccomp = %+v, want mode %q filters %d", sc, tc.mode, tc.filters)
			}
			for _, e := range sc.Evidence {
				if !strings.HasPrefix(e.Text, "Seccomp") || e.Line != lineOf(t, name, e.Text) {
					t.Errorf("seccomp evidence %+v", e)
				}
			}
		})
	}
}

func TestHostInitBounding(t *testing.T) {
	s, err := ParseStatus(fixture(t, "status/host-init"))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Capabilities("f")
	if len(c.Bounding) != 40 || contains(c.Bounding, "CAP_SYS_RESOURCE") || !contains(c.Bounding, "CAP_CHECKPOINT_RESTORE") {
		t.Errorf("bounding = %v, want all 41 but CAP_SYS_RESOURCE", c.Bounding)
	}
}

func TestParseStatusRefuses(t *testing.T) {
	for _, in := range []string{
		"CapEff:\tzz\n",
		"Seccomp:\t-1\n",
		"CapEff:\t0\nCapEff:\t1\n",
		"NoNewPrivs:\t\n",
		"CapBnd:\t1ffffffffffffffff\n",
	} {
		if _, err := ParseStatus([]byte(in)); !errors.Is(err, ErrParse) {
			t.Errorf("ParseStatus(%q) = %v, want ErrParse", in, err)
		}
	}
	// Lines it does not read are not its business.
	if _, err := ParseStatus([]byte("Name:\tx\nVmRSS: lots\nweird line\n")); err != nil {
		t.Errorf("unread lines: %v", err)
	}
}

func TestSeccompUnknownMode(t *testing.T) {
	s, err := ParseStatus([]byte("Seccomp:\t7\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc := s.SeccompMode("f"); sc.Mode != "mode 7" || sc.Err == "" {
		t.Errorf("mode 7 = %+v, want an error naming it", sc)
	}
}

func TestCapNames(t *testing.T) {
	for _, tc := range []struct {
		mask uint64
		want []string
	}{
		{0, []string{}},
		{1, []string{"CAP_CHOWN"}},
		{1 << 21, []string{"CAP_SYS_ADMIN"}},
		{1 << 40, []string{"CAP_CHECKPOINT_RESTORE"}},
		{1<<41 | 1<<63, []string{"CAP_41", "CAP_63"}},
		{0xa80425fb, dockerDefaultCaps},
	} {
		if got := CapNames(tc.mask); !sameStrings(got, tc.want) {
			t.Errorf("CapNames(%#x) = %v, want %v", tc.mask, got, tc.want)
		}
	}
	if len(CapNames(0x1ffffffffff)) != 41 {
		t.Errorf("41 bits should give 41 names")
	}
	for bit := 0; bit < 64; bit++ {
		names := CapNames(1 << bit)
		if len(names) != 1 || CapBit(names[0]) != bit {
			t.Errorf("bit %d: CapNames %v, CapBit back %d", bit, names, CapBit(names[0]))
		}
	}
	for _, bad := range []string{"CAP_", "CAP_3", "CAP_64", "SYS_ADMIN", ""} {
		if CapBit(bad) != -1 {
			t.Errorf("CapBit(%q) = %d, want -1", bad, CapBit(bad))
		}
	}
}
