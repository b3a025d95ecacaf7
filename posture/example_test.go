package posture_test

import (
	"fmt"

	"github.com/nsinspect/nsinspect/posture"
)

func ExampleCapNames() {
	// CapEff of a docker container with the default capabilities.
	fmt.Println(posture.CapNames(0xa80425fb))
	// Output: [CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SYS_CHROOT CAP_MKNOD CAP_AUDIT_WRITE CAP_SETFCAP]
}

func ExampleFindMasked() {
	mounts, _ := posture.ParseMountInfo([]byte(
		"77 75 0:42 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n" +
			"55 76 0:42 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n" +
			"57 79 0:51 / /sys/firmware ro,relatime - tmpfs tmpfs ro\n"))
	for _, p := range posture.FindMasked(mounts, "/proc/42/mountinfo").Paths {
		fmt.Printf("%s: %s (line %d)\n", p.Path, p.How, p.Evidence.Line)
	}
	// Output:
	// /proc/keys: bind mount of /dev/null (line 2)
	// /sys/firmware: empty read-only tmpfs (line 3)
}
