package posture

import (
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/namespaces"
)

func TestJudgeInitial(t *testing.T) {
	const nsfsDev = 4                           // 0:4
	old := func(int, int) bool { return false } // 6.1, 6.12
	recent := func(int, int) bool { return true }
	for _, tc := range []struct {
		typ            namespaces.Type
		ino            uint64
		nsfs           bool
		atLeast        func(int, int) bool
		shared, proven bool
		why            string
	}{
		{namespaces.IPC, 4026531839, true, old, true, true, "inode 4026531839 is PROC_IPC_INIT_INO: the kernel's initial ipc namespace"},
		{namespaces.IPC, 4026532285, true, old, false, true, "not the kernel's initial ipc namespace"},
		{namespaces.UTS, 0xEFFFFFFE, true, old, true, true, "PROC_UTS_INIT_INO"},
		{namespaces.Time, 0xEFFFFFFA, true, old, true, true, "PROC_TIME_INIT_INO"},
		{namespaces.User, 0xEFFFFFFD, false, old, false, false, "not on nsfs"},
		// net and mnt: a fixed number proves it on any kernel, another
		// number only on 6.17+.
		{namespaces.Net, 4026531833, true, old, true, true, "PROC_NET_INIT_INO"},
		{namespaces.Net, 4026531840, true, old, false, false, "only since Linux 6.17"},
		{namespaces.Net, 4026531840, true, recent, false, true, "not the kernel's initial net namespace"},
		{namespaces.Mount, 4026531832, true, recent, true, true, "PROC_MNT_INIT_INO"},
		{namespaces.Mount, 4026531841, true, old, false, false, "only since Linux 6.17"},
	} {
		l := nsLink{dev: nsfsDev, ino: tc.ino, nsfs: tc.nsfs}
		shared, proven, why := judgeInitial(tc.typ, l, tc.atLeast)
		if shared != tc.shared || proven != tc.proven || !strings.Contains(why, tc.why) {
			t.Errorf("%s ino %d: shared %v proven %v %q; want %v %v %q", tc.typ.Name(), tc.ino, shared, proven, why, tc.shared, tc.proven, tc.why)
		}
		if proven && !strings.Contains(why, "initial namespaces)") {
			t.Errorf("%s: a proof must carry the caveat about the host: %q", tc.typ.Name(), why)
		}
	}
	for _, typ := range namespaces.Types {
		if _, ok := initIno[typ]; !ok {
			t.Errorf("no initial inode for %s", typ.Name())
		}
	}
}
