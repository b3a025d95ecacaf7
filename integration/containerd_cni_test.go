package integration

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// cniNetwork is the CNI network the test's containerd gives a pod that
// is not hostNetwork: Debian's containernetworking-plugins, a bridge of
// the test's own with host-local addresses on a private subnet. The
// bridge has no address (isGateway false) and masquerades nothing
// (ipMasq false), so the plugin adds no route, no iptables rule and
// does not touch the host's ip_forward: a pod gets a network namespace
// of its own with a veth on the bridge, which is all the test needs.
// host-local keeps its leases under the test's directory; libcni keeps
// its cache of results in /var/lib/cni, which CRI does not let us move.
type cniNetwork struct {
	name, bridge, subnet string
	binDir               string   // the plugins' directory
	madeDirs             []string // directories of libcni's cache that did not exist before, deepest first
}

// cniPlugins are where Debian's and upstream's packages put the
// plugins.
var cniPlugins = []string{"/usr/lib/cni", "/opt/cni/bin"}

// cniCache is libcni's cache directory, where it keeps each attachment's
// result as results/NETWORK-CONTAINERID-IFNAME until its DEL.
const cniCache = "/var/lib/cni"

const cniConflist = `{
  "cniVersion": "1.0.0",
  "name": "{{name}}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "{{bridge}}",
      "isGateway": false,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "{{subnet}}"}]],
        "dataDir": "{{dir}}/cni/ipam"
      }
    }
  ]
}
`

// newCNINetwork writes the network's conflist into dir/cni/conf, where
// containerd's CRI plugin reads it, and registers the cleanup that
// removes what the plugins leave outside dir once containerd has torn
// the pods down: the bridge and any veth still on it, libcni's cached
// results. It fails (under CI=true) when the plugins are not installed.
func newCNINetwork(t *testing.T, dir, suffix string) *cniNetwork {
	t.Helper()
	testutil.RequireCommand(t, "ip", "iproute2")
	n := &cniNetwork{name: "nsinspect-it-" + suffix, bridge: "nsi" + suffix}
	for _, d := range cniPlugins {
		if isExecutable(filepath.Join(d, "bridge")) && isExecutable(filepath.Join(d, "host-local")) && isExecutable(filepath.Join(d, "loopback")) {
			n.binDir = d
			break
		}
	}
	if n.binDir == "" {
		testutil.Unavailable(t, fmt.Sprintf("no CNI bridge, host-local and loopback plugins in %s", strings.Join(cniPlugins, " or ")),
			"apt-get install containernetworking-plugins")
	}
	// A /24 of 10.0.0.0/8 picked from the suffix: nothing routes to it,
	// since the bridge has no address, so it cannot clash with the
	// host's networks; the pick only keeps two runs' leases apart.
	b, err := hex.DecodeString(suffix[:2])
	if err != nil {
		t.Fatal(err)
	}
	n.subnet = fmt.Sprintf("10.213.%d.0/24", b[0])
	for d := filepath.Join(cniCache, "results"); d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(d); errors.Is(err, fs.ErrNotExist) {
			n.madeDirs = append(n.madeDirs, d)
		}
	}
	conf := strings.NewReplacer("{{name}}", n.name, "{{bridge}}", n.bridge, "{{subnet}}", n.subnet, "{{dir}}", dir).Replace(cniConflist)
	must(t, os.WriteFile(filepath.Join(dir, "cni", "conf", "10-nsinspect-it.conflist"), []byte(conf), 0o644))
	t.Cleanup(func() { n.cleanup(t) })
	return n
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// forget removes libcni's cached results for a pod sandbox that
// containerd did not tear down (StopPodSandbox runs CNI DEL, which
// removes them): NETWORK-SANDBOXID-IFNAME for this network and for the
// loopback network CRI adds (cni-loopback).
func (n *cniNetwork) forget(t *testing.T, sandboxID string) {
	results, _ := filepath.Glob(filepath.Join(cniCache, "results", "*-"+sandboxID+"-*"))
	for _, f := range results {
		if err := os.Remove(f); err != nil {
			t.Errorf("cleanup: %v", err)
		} else {
			t.Logf("cleanup: removed libcni's cached result %s: no CNI DEL ran for it", f)
		}
	}
}

// cleanup removes the bridge, the veths still on it (a pod whose
// sandbox containerd could not stop) and the directories of libcni's
// cache the run made, then checks that no link or iptables rule of the
// network is left. It runs after containerd's cleanup (forget).
func (n *cniNetwork) cleanup(t *testing.T) {
	ip := func(args ...string) (string, error) {
		return testutil.Output(testutil.Command(t, testutil.Quick, "ip", args...))
	}
	if out, err := ip("-o", "link", "show", "master", n.bridge); err == nil {
		for _, line := range strings.Split(out, "\n") {
			// "7: vethb2a1c3d4@if2: <...> ... master nsi..."
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			if _, err := ip("link", "delete", name); err != nil && linkExists(t, name) {
				t.Errorf("cleanup: %v", err)
			}
		}
	}
	if linkExists(t, n.bridge) {
		if _, err := ip("link", "delete", n.bridge); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	for _, d := range n.madeDirs {
		// Another user of CNI may have put something there meanwhile.
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, unix.ENOTEMPTY) {
			t.Errorf("cleanup: %v", err)
		}
	}
	if linkExists(t, n.bridge) {
		t.Errorf("cleanup: bridge %s is still there", n.bridge)
	}
	for _, tool := range []string{"iptables-save", "iptables-legacy-save", "ip6tables-save"} {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		out, err := testutil.Output(testutil.Command(t, testutil.Quick, tool))
		if err != nil {
			continue // a table this kernel does not have
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, n.bridge) || strings.Contains(line, n.name) || strings.Contains(line, strings.TrimSuffix(n.subnet, "0/24")) {
				t.Errorf("cleanup: %s shows a rule of the test's CNI network: %s", tool, line)
			}
		}
	}
}

func linkExists(t *testing.T, name string) bool {
	_, err := testutil.Output(testutil.Command(t, testutil.Quick, "ip", "link", "show", "dev", name))
	return err == nil
}
