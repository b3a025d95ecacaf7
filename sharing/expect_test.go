package sharing

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/namespaces"
)

func TestParseExpect(t *testing.T) {
	cases := []struct {
		in      string
		want    string // Expectations joined by ","; "" when an error is wanted
		errHas  string
		errList bool // the error lists the valid resource names
	}{
		{in: "net=separate", want: "net=separate"},
		{in: "net=separate,files=shared", want: "net=separate,files=shared"},
		{in: " pid_for_children = shared , time_for_children=separate ", want: "pid_for_children=shared,time_for_children=separate"},
		{in: "cgroup=shared,ipc=shared,mnt=shared,net=shared,pid=shared,pid_for_children=shared,time=shared,time_for_children=shared,user=shared,uts=shared,files=shared,fs=shared,vm=shared,sighand=shared,io=shared,sysvsem=shared",
			want: "cgroup=shared,ipc=shared,mnt=shared,net=shared,pid=shared,pid_for_children=shared,time=shared,time_for_children=shared,user=shared,uts=shared,files=shared,fs=shared,vm=shared,sighand=shared,io=shared,sysvsem=shared"},
		{in: "", errHas: "empty list", errList: true},
		{in: "  ", errHas: "empty list", errList: true},
		{in: "net=separate,", errHas: "item 2 is empty"},
		{in: ",net=separate", errHas: "item 1 is empty"},
		{in: "net=separate,,uts=shared", errHas: "item 2 is empty"},
		{in: "network=separate", errHas: `unknown resource "network"`, errList: true},
		{in: "NET=separate", errHas: `unknown resource "NET"`, errList: true},
		{in: "net", errHas: `"net" is not NAME=shared or NAME=separate`},
		{in: "net=", errHas: "is not NAME="},
		{in: "=shared", errHas: "is not NAME="},
		{in: "net=same", errHas: `write "shared"`},
		{in: "net=different", errHas: `write "separate"`},
		{in: "net=Shared", errHas: `write "shared"`},
		{in: "net=maybe", errHas: "neither shared nor separate"},
		{in: "net=separate=shared", errHas: "neither shared nor separate"},
		{in: "net=separate,net=shared", errHas: "net is given twice"},
		{in: "net=separate,uts=shared,net=separate", errHas: "net is given twice"},
	}
	for _, c := range cases {
		got, err := ParseExpect(c.in)
		if c.errHas != "" {
			if !errors.Is(err, ErrBadExpect) || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("ParseExpect(%q): err %v, want one containing %q", c.in, err, c.errHas)
			}
			if err != nil && c.errList != strings.Contains(err.Error(), "sysvsem") {
				t.Errorf("ParseExpect(%q): error %q: listing valid names is %t, want %t", c.in, err, !c.errList, c.errList)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseExpect(%q): %v", c.in, err)
			continue
		}
		var s []string
		for _, e := range got {
			s = append(s, e.String())
		}
		if j := strings.Join(s, ","); j != c.want {
			t.Errorf("ParseExpect(%q) = %s, want %s", c.in, j, c.want)
		}
	}
}

// FuzzParseExpect: never panics, errors are ErrBadExpect on one line, and
// what parses names each known resource at most once and round-trips.
func FuzzParseExpect(f *testing.F) {
	for _, s := range []string{"net=separate", "net=separate,files=shared", "", ",", "net=same", "net=separate,net=shared", "a=b=c", "io=shared, sysvsem=separate", "\x00=\xff"} {
		f.Add(s)
	}
	valid := map[string]bool{}
	for _, n := range ResourceNames() {
		valid[n] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseExpect(s)
		if err != nil {
			if !errors.Is(err, ErrBadExpect) || got != nil {
				t.Fatalf("ParseExpect(%q): %v, %v", s, got, err)
			}
			return
		}
		seen := map[string]bool{}
		var parts []string
		for _, e := range got {
			if !valid[e.Resource] || seen[e.Resource] {
				t.Fatalf("ParseExpect(%q): bad or repeated resource %q", s, e.Resource)
			}
			seen[e.Resource] = true
			parts = append(parts, e.String())
		}
		again, err := ParseExpect(strings.Join(parts, ","))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
	})
}

func TestCheck(t *testing.T) {
	net1 := namespaces.NS{Type: namespaces.Net, ID: 3, Ino: 4026531840}
	net2 := namespaces.NS{Type: namespaces.Net, ID: 4101, Ino: 4026532178}
	zero := 0
	r := &Report{Resources: []Resource{
		{Name: "net", Kind: KindNamespace, Shared: ptr(true), Evidence: Evidence{A: &net1, B: &net1}},
		{Name: "uts", Kind: KindNamespace, Shared: ptr(false), Evidence: Evidence{A: &net1, B: &net2}},
		{Name: "io", Kind: KindKcmp, Evidence: Evidence{Kcmp: "KCMP_IO", Result: &zero}, Note: "both NULL"},
	}}
	exp, err := ParseExpect("net=separate,uts=separate,io=separate,io=shared")
	if err == nil {
		t.Fatal("duplicate accepted")
	}
	exp, err = ParseExpect("net=separate,uts=separate,io=shared")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range r.Check(exp) {
		got = append(got, v.String())
	}
	want := []string{
		"net: expected separate, got shared (ids 3 == 3 (net:[4026531840], net:[4026531840]))",
		"io: expected shared, got indeterminate (kcmp KCMP_IO = 0; both NULL)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func ExampleParseExpect() {
	exp, err := ParseExpect("net=separate,files=shared")
	fmt.Println(exp, err)
	_, err = ParseExpect("net=same")
	fmt.Println(err)
	// Output:
	// [net=separate files=shared] <nil>
	// bad expectation: value "same" in "net=same": write "shared" (values: shared, separate)
}
