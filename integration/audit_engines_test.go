package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/posture"
)

// podmanDefaultCaps is podman's default capability set (containers.conf's
// default_capabilities in containers/common, which Debian's podman 4.3
// uses).
var podmanDefaultCaps = strings.Fields(`CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL
	CAP_NET_BIND_SERVICE CAP_SETFCAP CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_CHROOT`)

// runcSpecCaps is the capability set of `runc spec`'s config.json.
var runcSpecCaps = []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}

// engineCase is one container setting and what it must change, checked
// against the same engine's default container (base).
type engineCase struct {
	name  string
	flags []string                  // podman run flags
	edit  func(spec map[string]any) // runc config.json changes
	check func(t *testing.T, f, base *posture.Facts)
}

// fakeSocket makes a listening unix socket named name in a directory
// anyone may enter, for a container to have mounted in as an engine's
// socket. It is closed at cleanup.
func fakeSocket(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nsinspect-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	p := filepath.Join(dir, name)
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	os.Chmod(p, 0o666)
	return p
}

func capsWith(base []string, add ...string) []string {
	return sorted(append(slices.Clone(base), add...))
}

func sensitiveKinds(f *posture.Facts) []string {
	var out []string
	for _, m := range f.SensitiveMounts.Mounts {
		out = append(out, m.Kind)
	}
	return out
}

// commonCases are the settings every engine can be given, as podman
// flags and as runc config.json edits.
func commonCases(sock string) []engineCase {
	return []engineCase{
		{name: "cap-drop-all", flags: []string{"--cap-drop", "ALL"},
			edit: func(s map[string]any) { setCaps(s, nil) },
			check: func(t *testing.T, f, base *posture.Facts) {
				c := f.Capabilities
				if len(c.Effective)+len(c.Permitted)+len(c.Bounding) != 0 {
					t.Errorf("all capabilities dropped: %+v", c)
				}
			}},
		{name: "cap-add-net-admin", flags: []string{"--cap-add", "NET_ADMIN"},
			edit: func(s map[string]any) { setCaps(s, append(slices.Clone(runcSpecCaps), "CAP_NET_ADMIN")) },
			check: func(t *testing.T, f, base *posture.Facts) {
				if want := capsWith(base.Capabilities.Effective, "CAP_NET_ADMIN"); !slices.Equal(sorted(f.Capabilities.Effective), want) {
					t.Errorf("NET_ADMIN added: effective %v, want %v", f.Capabilities.Effective, want)
				}
			}},
		{name: "seccomp-filter", flags: nil, // podman's default is a filter already
			edit: func(s map[string]any) {
				s["linux"].(map[string]any)["seccomp"] = map[string]any{
					"defaultAction": "SCMP_ACT_ALLOW",
					"syscalls":      []any{map[string]any{"names": []string{"reboot"}, "action": "SCMP_ACT_ERRNO"}},
				}
			},
			check: func(t *testing.T, f, base *posture.Facts) {
				if f.Seccomp.Mode != "filter" || f.Seccomp.Filters < 1 {
					t.Errorf("a seccomp profile: %+v, want filter", f.Seccomp)
				}
			}},
		{name: "socket", flags: []string{"-v", sock + ":/run/podman/podman.sock"},
			edit: func(s map[string]any) {
				s["mounts"] = append(s["mounts"].([]any), map[string]any{
					"destination": "/run/podman/podman.sock", "type": "bind", "source": sock, "options": []string{"rbind", "rw"},
				})
			},
			check: func(t *testing.T, f, base *posture.Facts) {
				var m *posture.SensitiveMount
				for i := range f.SensitiveMounts.Mounts {
					if f.SensitiveMounts.Mounts[i].Kind == "podman-socket" {
						m = &f.SensitiveMounts.Mounts[i]
					}
				}
				if m == nil || m.Path != "/run/podman/podman.sock" || m.Source != sock || m.Evidence.Line == 0 {
					t.Errorf("socket %s mounted at /run/podman/podman.sock: sensitive mounts %+v", sock, f.SensitiveMounts)
				}
				if len(base.SensitiveMounts.Mounts) != 0 {
					t.Errorf("default container has sensitive mounts %v", sensitiveKinds(base))
				}
			}},
		{name: "device-fuse", flags: []string{"--device", "/dev/fuse"},
			edit: func(s map[string]any) {
				var st unix.Stat_t
				unix.Stat("/dev/fuse", &st)
				linux := s["linux"].(map[string]any)
				linux["devices"] = []any{map[string]any{"path": "/dev/fuse", "type": "c",
					"major": unix.Major(st.Rdev), "minor": unix.Minor(st.Rdev), "fileMode": 0o666}}
			},
			check: func(t *testing.T, f, base *posture.Facts) {
				if !hasDevice(f, "/dev/fuse") || hasDevice(base, "/dev/fuse") {
					t.Errorf("/dev/fuse given: devices %+v (default has it: %v)", f.Devices.Nodes, hasDevice(base, "/dev/fuse"))
				}
			}},
	}
}

// setCaps sets every capability set of a runc spec's process.
func setCaps(s map[string]any, caps []string) {
	if caps == nil {
		caps = []string{}
	}
	c := s["process"].(map[string]any)["capabilities"].(map[string]any)
	for _, set := range []string{"bounding", "effective", "permitted", "inheritable", "ambient"} {
		if set == "inheritable" || set == "ambient" {
			c[set] = []string{}
			continue
		}
		c[set] = caps
	}
}

// checkEngineDefault checks an engine's default container: its own
// namespaces but user (separate for rootless), nothing sensitive.
func checkEngineDefault(t *testing.T, f *posture.Facts, ownUser bool) {
	t.Helper()
	for _, l := range []string{"net", "pid", "ipc", "uts", "mnt"} {
		if ns := f.Namespaces[l]; ns.Shared || !ns.Proven {
			t.Errorf("%s: %+v, want separate", l, ns)
		}
	}
	if u := f.Namespaces["user"]; u.Shared == ownUser {
		t.Errorf("user: %+v, want shared=%v", u, !ownUser)
	}
	if ownUser && (f.UIDMap.RootIsHostRoot || f.UIDMap.Identity) {
		t.Errorf("own user namespace, but uid_map %+v", f.UIDMap)
	}
	if len(f.SensitiveMounts.Mounts) != 0 {
		t.Errorf("sensitive mounts %v", sensitiveKinds(f))
	}
}

func auditContainer(t *testing.T, target string, c container) *posture.Facts {
	t.Helper()
	a := audit(t, target).Targets[0]
	got := a.Target.Container
	if a.Target.PID != c.pid || got == nil || got.Engine != c.engine || got.ID != c.id || got.Name != c.name {
		t.Fatalf("%s: target pid %d container %+v, want %s %s (%s) pid %d", target, a.Target.PID, got, c.engine, c.id, c.name, c.pid)
	}
	return &a.Facts
}

// TestAuditPodman audits podman containers, rootful and rootless, per
// setting, each against the engine's default container: the same
// settings as TestAuditDocker's where podman has them.
func TestAuditPodman(t *testing.T) {
	for _, rootless := range []bool{false, true} {
		name := map[bool]string{false: "rootful", true: "rootless"}[rootless]
		t.Run(name, func(t *testing.T) {
			requirePodman(t, rootless)
			prefix := "podman:"
			if rootless {
				prefix += rootlessUser + "/"
			}
			sock := fakeSocket(t, "podman.sock")
			bc := startPodman(t, rootless, "audit-default")
			base := auditContainer(t, prefix+bc.name, bc)
			checkEngineDefault(t, base, rootless)
			if !slices.Equal(sorted(base.Capabilities.Effective), podmanDefaultCaps) {
				t.Errorf("default effective %v, want podman's %v", base.Capabilities.Effective, podmanDefaultCaps)
			}
			if base.Seccomp.Mode != "filter" || base.NoNewPrivs.Value {
				t.Errorf("default seccomp %+v, no_new_privs %v", base.Seccomp, base.NoNewPrivs.Value)
			}
			if !slices.Contains(pathsOf(base.ReadonlyPaths), "/proc/sys") || !slices.Contains(pathsOf(base.MaskedPaths), "/proc/keys") {
				t.Errorf("default read-only %v masked %v", pathsOf(base.ReadonlyPaths), pathsOf(base.MaskedPaths))
			}
			cases := append(commonCases(sock),
				engineCase{name: "no-new-privileges", flags: []string{"--security-opt", "no-new-privileges"},
					check: func(t *testing.T, f, base *posture.Facts) {
						if !f.NoNewPrivs.Value {
							t.Errorf("no_new_privs %+v", f.NoNewPrivs)
						}
					}},
				engineCase{name: "seccomp-unconfined", flags: []string{"--security-opt", "seccomp=unconfined"},
					check: func(t *testing.T, f, base *posture.Facts) {
						if f.Seccomp.Mode != "disabled" {
							t.Errorf("seccomp=unconfined: %+v", f.Seccomp)
						}
					}},
				engineCase{name: "read-only", flags: []string{"--read-only"},
					check: func(t *testing.T, f, base *posture.Facts) {
						if !slices.Contains(pathsOf(f.ReadonlyPaths), "/") || slices.Contains(pathsOf(base.ReadonlyPaths), "/") {
							t.Errorf("--read-only: read-only paths %v (default %v)", pathsOf(f.ReadonlyPaths), pathsOf(base.ReadonlyPaths))
						}
					}},
				engineCase{name: "privileged", flags: []string{"--privileged"},
					check: func(t *testing.T, f, base *posture.Facts) {
						if !slices.Contains(f.Capabilities.Effective, "CAP_SYS_ADMIN") || f.Seccomp.Mode != "disabled" || slices.Contains(pathsOf(f.MaskedPaths), "/proc/keys") {
							t.Errorf("--privileged: caps %v seccomp %s masked %v", f.Capabilities.Effective, f.Seccomp.Mode, pathsOf(f.MaskedPaths))
						}
					}},
			)
			if !rootless {
				cases = append(cases, engineCase{name: "userns-host", flags: []string{"--userns", "host"},
					check: func(t *testing.T, f, base *posture.Facts) {
						if !f.Namespaces["user"].Shared || !f.UIDMap.RootIsHostRoot {
							t.Errorf("--userns host: user %+v uid_map %+v", f.Namespaces["user"], f.UIDMap)
						}
					}})
			} else {
				// Rootless: --userns keep-id maps the user to itself
				// inside; root inside is still not the host's root.
				cases = append(cases, engineCase{name: "userns-keep-id", flags: []string{"--userns", "keep-id"},
					check: func(t *testing.T, f, base *posture.Facts) {
						if f.Namespaces["user"].Shared || f.UIDMap.RootIsHostRoot {
							t.Errorf("--userns keep-id: user %+v uid_map %+v", f.Namespaces["user"], f.UIDMap)
						}
					}})
			}
			for _, tc := range cases {
				if tc.flags == nil {
					continue // runc only
				}
				t.Run(tc.name, func(t *testing.T) {
					c := startPodman(t, rootless, "audit-"+tc.name, tc.flags...)
					tc.check(t, auditContainer(t, prefix+c.name, c), base)
				})
			}
		})
	}
}

// TestAuditRunc audits plain runc containers from OCI bundles (no
// image, no engine): the default `runc spec` and each setting as a
// config.json edit, every namespace the spec declares against the
// kernel's verdict.
func TestAuditRunc(t *testing.T) {
	sock := fakeSocket(t, "podman.sock")
	bc := startRuncBundle(t, "audit-default", nil)
	base := auditContainer(t, "runc:"+bc.id, bc)
	// runc spec: pid, network, ipc, uts, mount and cgroup namespaces, no
	// user namespace; three capabilities; no_new_privs; a read-only
	// root; no seccomp; its masked and read-only paths.
	checkEngineDefault(t, base, false)
	t.Logf("runc spec's cgroup namespace: %+v", base.Namespaces["cgroup"])
	if !slices.Equal(sorted(base.Capabilities.Effective), runcSpecCaps) || !base.NoNewPrivs.Value ||
		base.Seccomp.Mode != "disabled" || !slices.Contains(pathsOf(base.ReadonlyPaths), "/") {
		t.Errorf("runc spec's default: caps %v no_new_privs %v seccomp %s read-only %v",
			base.Capabilities.Effective, base.NoNewPrivs.Value, base.Seccomp.Mode, pathsOf(base.ReadonlyPaths))
	}
	if !slices.Contains(pathsOf(base.MaskedPaths), "/proc/keys") || !slices.Contains(pathsOf(base.ReadonlyPaths), "/proc/sys") {
		t.Errorf("runc spec's masked %v read-only %v", pathsOf(base.MaskedPaths), pathsOf(base.ReadonlyPaths))
	}
	cases := append(commonCases(sock),
		engineCase{name: "new-privileges", edit: func(s map[string]any) { s["process"].(map[string]any)["noNewPrivileges"] = false },
			check: func(t *testing.T, f, base *posture.Facts) {
				if f.NoNewPrivs.Value {
					t.Errorf("noNewPrivileges false: %+v", f.NoNewPrivs)
				}
			}},
		engineCase{name: "writable-root", edit: func(s map[string]any) { s["root"].(map[string]any)["readonly"] = false },
			check: func(t *testing.T, f, base *posture.Facts) {
				if slices.Contains(pathsOf(f.ReadonlyPaths), "/") {
					t.Errorf("root.readonly false: read-only paths %v", pathsOf(f.ReadonlyPaths))
				}
			}},
		engineCase{name: "unmasked", edit: func(s map[string]any) {
			linux := s["linux"].(map[string]any)
			linux["maskedPaths"], linux["readonlyPaths"] = []string{}, []string{}
		},
			check: func(t *testing.T, f, base *posture.Facts) {
				if len(f.MaskedPaths.Paths) != 0 || slices.Contains(pathsOf(f.ReadonlyPaths), "/proc/sys") {
					t.Errorf("no masked or read-only paths declared: masked %v read-only %v", pathsOf(f.MaskedPaths), pathsOf(f.ReadonlyPaths))
				}
			}},
		engineCase{name: "userns", edit: func(s map[string]any) {
			// The mapped root must own its rootfs (runc makes /proc in
			// it): a copy owned by 100000.
			s["root"].(map[string]any)["path"] = mappedRootfs(t, 100000)
			linux := s["linux"].(map[string]any)
			linux["namespaces"] = append(linux["namespaces"].([]any), map[string]any{"type": "user"})
			m := []any{map[string]any{"containerID": 0, "hostID": 100000, "size": 65536}}
			linux["uidMappings"], linux["gidMappings"] = m, m
		},
			check: func(t *testing.T, f, base *posture.Facts) {
				if f.Namespaces["user"].Shared || f.UIDMap.RootIsHostRoot || len(f.UIDMap.Ranges) != 1 || f.UIDMap.Ranges[0].Outside != 100000 {
					t.Errorf("user namespace mapped to 100000: user %+v uid_map %+v", f.Namespaces["user"], f.UIDMap)
				}
			}},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := startRuncBundle(t, "audit-"+tc.name, tc.edit)
			tc.check(t, auditContainer(t, "runc:"+c.id, c), base)
		})
	}
}

// mappedRootfs is a copy of the static rootfs owned by uid and gid id, in
// a directory anyone may enter, removed at cleanup.
func mappedRootfs(t *testing.T, id int) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nsinspect-rootfs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	dst := filepath.Join(dir, "rootfs")
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "cp", "-a", staticRootfs(t), dst))
	testutil.MustRun(t, testutil.Command(t, testutil.Quick, "chown", "-R", fmt.Sprintf("%d:%d", id, id), dst))
	return dst
}
