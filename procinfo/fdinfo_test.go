package procinfo

import (
	"reflect"
	"strings"
	"testing"
)

func intp(i int) *int { return &i }

// Fixtures are real fdinfo files of one process (testdata/capture.sh).
func TestParseFDInfoFixtures(t *testing.T) {
	tests := []struct {
		file      string
		pos       int64
		flags     string
		mntID     int
		ino       uint64
		pid       *int
		nspid     []int
		extraHead string
	}{
		{"regular", 3, "O_RDONLY|O_LARGEFILE|O_CLOEXEC", 27, 9978392, nil, nil, ""},
		{"deleted", 0, "O_RDWR|O_LARGEFILE", 27, 9978397, nil, nil, ""},
		{"dir", 0, "O_RDONLY|O_LARGEFILE|O_DIRECTORY", 27, 9978390, nil, nil, ""},
		{"pipe-write", 0, "O_WRONLY|O_NONBLOCK", 16, 12938, nil, nil, ""},
		{"pipe-read", 0, "O_RDONLY|O_NONBLOCK", 16, 12938, nil, nil, ""},
		{"socket-tcp", 0, "O_RDWR", 10, 12939, nil, nil, ""},
		{"socket-unix", 0, "O_RDWR|O_CLOEXEC", 10, 12940, nil, nil, "scm_fds: 0"},
		{"eventfd", 0, "O_RDWR|O_CLOEXEC", 17, 1038, nil, nil, "eventfd-count:"},
		{"eventpoll", 0, "O_RDWR", 17, 1038, nil, nil, "tfd:"},
		{"timerfd", 0, "O_RDWR", 17, 1038, nil, nil, "clockid: 1"},
		{"signalfd", 0, "O_RDWR", 17, 1038, nil, nil, "sigmask:"},
		{"inotify", 0, "O_RDONLY", 17, 1038, nil, nil, "inotify wd:1 "},
		{"pidfd", 0, "O_RDWR|O_CLOEXEC", 4, 2, intp(1), []int{1}, ""},
		{"nsfs", 0, "O_RDONLY|O_LARGEFILE", 3, 4026531833, nil, nil, ""},
		{"memfd", 0, "O_RDWR|O_LARGEFILE", 0, 1026, nil, nil, ""},
		{"chr", 0, "O_WRONLY|O_APPEND|O_LARGEFILE", 24, 3, nil, nil, ""},
		{"fifo", 0, "O_RDWR|O_LARGEFILE", 27, 9978398, nil, nil, ""},
		{"blk", 0, "O_RDONLY|O_LARGEFILE", 24, 94, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fi := parseFixture(t, "fdinfo/"+tt.file, ParseFDInfo)
			if fi.Pos != tt.pos || fi.MntID != tt.mntID || fi.Ino != tt.ino {
				t.Errorf("pos, mnt_id, ino = %d, %d, %d; want %d, %d, %d", fi.Pos, fi.MntID, fi.Ino, tt.pos, tt.mntID, tt.ino)
			}
			// The fixtures were captured on x86_64.
			if got := strings.Join(openFlagNames("amd64", fi.Flags), "|"); got != tt.flags {
				t.Errorf("flags %#o decoded as %s, want %s", fi.Flags, got, tt.flags)
			}
			if !reflect.DeepEqual(fi.Pid, tt.pid) || !reflect.DeepEqual(fi.NSpid, tt.nspid) {
				t.Errorf("Pid, NSpid = %v, %v; want %v, %v", fi.Pid, fi.NSpid, tt.pid, tt.nspid)
			}
			switch {
			case tt.extraHead == "" && len(fi.Extra) != 0:
				t.Errorf("unexpected extra lines %q", fi.Extra)
			case tt.extraHead != "" && (len(fi.Extra) == 0 || !strings.HasPrefix(fi.Extra[0], tt.extraHead)):
				t.Errorf("extra lines %q, want first to start with %q", fi.Extra, tt.extraHead)
			}
		})
	}
}

func TestParseFDInfoBad(t *testing.T) {
	wantErrParse(t, "ParseFDInfo", ParseFDInfo,
		"",
		"pos:\t0\n",                      // no flags:
		"pos:\tx\nflags:\t0\n",           // pos not a number
		"pos:\t0\nflags:\t09\n",          // flags not octal
		"pos:\t0\nflags:\t0\nPid:\tme\n", // Pid not a number
	)
}

func TestOpenFlagNames(t *testing.T) {
	for flags, want := range map[uint32]string{
		0:          "O_RDONLY",
		0o2004002:  "O_RDWR|O_NONBLOCK|O_CLOEXEC",
		0o3:        "O_ACCMODE",
		0o4010001:  "O_WRONLY|O_DSYNC|__O_SYNC",
		0o10000000: "O_RDONLY|O_PATH",
		0o40000000: "O_RDONLY|040000000",
	} {
		if got := strings.Join(OpenFlagNames(flags), "|"); got != want {
			t.Errorf("OpenFlagNames(%#o) = %s, want %s", flags, got, want)
		}
	}
	// The four bits arm64 moves: what open(2) sets there is what the
	// kernel stores, so each arch reads its own values back.
	for arch, want := range map[string]string{
		"amd64": "O_RDONLY|O_LARGEFILE|O_DIRECTORY",
		"arm64": "O_RDONLY|O_DIRECTORY|O_LARGEFILE",
	} {
		dir := map[string]uint32{"amd64": 0o300000, "arm64": 0o440000}[arch]
		if got := strings.Join(openFlagNames(arch, dir), "|"); got != want {
			t.Errorf("%s: openFlagNames(%#o) = %s, want %s", arch, dir, got, want)
		}
	}
}

func FuzzParseFDInfo(f *testing.F) {
	fuzzParser(f, "fdinfo/*", ParseFDInfo, func(t *testing.T, _ string, fi FDInfo) {
		if len(OpenFlagNames(fi.Flags)) == 0 {
			t.Fatal("no access mode decoded")
		}
	})
}
