// Package deploy holds the Kubernetes manifests and Prometheus files for
// `nsinspect serve`; its tests decode the manifests strictly with the
// Kubernetes API types and run promtool on the rules.
package deploy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// decodeStrict decodes every manifest under kubernetes/ into its API type,
// rejecting unknown or duplicated fields: a typo ("readOnlyRootFileSystem")
// fails here instead of being dropped silently by the API server.
func decodeStrict(t *testing.T) map[string]any {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under kubernetes/ (%v)", err)
	}
	out := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(b, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var head struct{ APIVersion, Kind string }
			if err := yaml.Unmarshal(doc, &head); err != nil {
				t.Fatalf("%s doc %d: %v", f, i, err)
			}
			var obj any
			switch head.APIVersion + "/" + head.Kind {
			case "apps/v1/DaemonSet":
				obj = &appsv1.DaemonSet{}
			case "v1/Service":
				obj = &corev1.Service{}
			case "networking.k8s.io/v1/NetworkPolicy":
				obj = &networkingv1.NetworkPolicy{}
			default:
				t.Fatalf("%s doc %d: unexpected %s %s", f, i, head.APIVersion, head.Kind)
			}
			if err := unmarshalStrict(doc, obj); err != nil {
				t.Errorf("%s doc %d (%s): %v", f, i, head.Kind, err)
			}
			out[head.Kind] = obj
		}
	}
	return out
}

// unmarshalStrict is the API server's strict decoding: YAML to JSON
// (duplicate keys are an error), then sigs.k8s.io/json with case-sensitive
// field names and unknown or duplicate fields refused. (encoding/json, and
// so sigs.k8s.io/yaml's UnmarshalStrict alone, matches field names without
// regard to case: "readOnlyRootFileSystem" would pass.)
func unmarshalStrict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, obj)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

func TestManifestsDecodeStrictly(t *testing.T) {
	objs := decodeStrict(t)
	ds, ok := objs["DaemonSet"].(*appsv1.DaemonSet)
	if !ok {
		t.Fatal("no DaemonSet")
	}
	spec := ds.Spec.Template.Spec
	if !spec.HostPID {
		t.Error("hostPID must be true: PID 1 is the reference every container is compared with")
	}
	if spec.HostNetwork || spec.HostIPC {
		t.Error("hostNetwork and hostIPC are not needed")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Errorf("args %v: want serve first", c.Args)
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("readOnlyRootFilesystem must be true")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("allowPrivilegeEscalation must be false")
	case sc.Privileged != nil && *sc.Privileged:
		t.Error("must not be privileged")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}):
		t.Error("capabilities must drop ALL")
	}
	var add []string
	for _, a := range sc.Capabilities.Add {
		add = append(add, string(a))
	}
	slices.Sort(add)
	if want := []string{"BPF", "DAC_READ_SEARCH", "PERFMON", "SYS_PTRACE"}; !slices.Equal(add, want) {
		t.Errorf("capabilities add %v, want exactly %v (each is justified in the manifest's header)", add, want)
	}
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly {
			t.Errorf("volume mount %s is writable: every host path must be read-only", m.MountPath)
		}
	}
	// containerd's socket directory is mounted (for pod names), and the
	// header says that a read-only mount of a socket limits nothing.
	if !slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool {
		return v.HostPath != nil && v.HostPath.Path == "/run/containerd"
	}) {
		t.Error("no hostPath volume for /run/containerd, containerd's socket directory")
	}
	if raw, err := os.ReadFile("kubernetes/daemonset.yaml"); err != nil {
		t.Error(err)
	} else if !strings.Contains(string(raw), "readOnly: true below does NOT limit") {
		t.Error("the header must say that a read-only mount does not limit what a socket client can do")
	}
	ann := ds.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != "9817" {
		t.Errorf("scrape annotations %v", ann)
	}
	if svc, ok := objs["Service"].(*corev1.Service); !ok || svc.Spec.Selector["app.kubernetes.io/name"] != "nsinspect" {
		t.Error("the Service must select the DaemonSet's pods")
	}
}

// TestDecodeRejectsTypos proves the strictness the manifest test relies on.
func TestDecodeRejectsTypos(t *testing.T) {
	b, err := os.ReadFile("kubernetes/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range [][2]string{
		{"readOnlyRootFilesystem", "readOnlyRootFileSystem"}, // case
		{"readOnlyRootFilesystem", "readOnlyRootFilesytem"},  // spelling
		{"      hostPID:", "      hostPid:"},
		{"  hostPID: true\n", "  hostPID: true\n      hostPID: true\n"}, // duplicate
	} {
		bad := strings.Replace(string(b), typo[0], typo[1], 1)
		if bad == string(b) {
			t.Fatalf("%q not in the manifest", typo[0])
		}
		if err := unmarshalStrict([]byte(bad), &appsv1.DaemonSet{}); err == nil {
			t.Errorf("%q for %q decoded without error", typo[1], typo[0])
		}
	}
}

func TestKubernetesScrapeConfigShape(t *testing.T) {
	b, err := os.ReadFile("prometheus/kubernetes-scrape.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string           `json:"job_name"`
			HonorLabels   bool             `json:"honor_labels"`
			KubernetesSD  []map[string]any `json:"kubernetes_sd_configs"`
			RelabelConfig []map[string]any `json:"relabel_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.ScrapeConfigs) != 1 || !cfg.ScrapeConfigs[0].HonorLabels || len(cfg.ScrapeConfigs[0].KubernetesSD) != 1 {
		t.Errorf("want one job with honor_labels and kubernetes_sd_configs: %+v", cfg)
	}
}

func promtool(t *testing.T, args ...string) {
	t.Helper()
	testutil.RequireCommand(t, "promtool", "prometheus")
	cmd := testutil.Command(t, testutil.Quick, "promtool", args...)
	cmd.Dir = "prometheus"
	out, err := testutil.Output(cmd)
	if err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
}

func TestAlertRulesCheck(t *testing.T) { promtool(t, "check", "rules", "nsinspect-rules.yml") }

// TestAlertRulesUnit runs the alert unit tests: a container sharing the
// host's network namespace fires, a compliant one and one in an allowed
// namespace do not; policy violations, failing scans and silent nodes.
func TestAlertRulesUnit(t *testing.T) { promtool(t, "test", "rules", "nsinspect-rules_test.yml") }

func TestPrometheusConfigCheck(t *testing.T) { promtool(t, "check", "config", "prometheus.yml") }
