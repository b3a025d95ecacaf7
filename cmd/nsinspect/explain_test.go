package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/sharing"
)

// execute runs one nsinspect command line in this process and returns its
// stdout, the error Execute returned and the exit code main would use.
func execute(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	root := newRootCmd(args)
	root.SetArgs(args)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.Execute()
	code := exitOK
	if err != nil {
		code = exitCode(err)
	}
	return out.String(), code, err
}

// Every row of a clone or compare report, and so every --expect name, has
// an entry: pid_for_children and time_for_children too.
func TestExplainEveryReportRow(t *testing.T) {
	for _, name := range sharing.ResourceNames() {
		out, code, err := execute(t, "explain", name)
		if code != exitOK || !strings.Contains(out, "clone(2):") {
			t.Errorf("explain %s: exit %d, %v\n%s", name, code, err, out)
		}
	}
	for link, flag := range map[string]string{"pid_for_children": "CLONE_NEWPID", "time_for_children": "CLONE_NEWTIME"} {
		out, code, err := execute(t, "explain", link, "--json")
		e, jerr := oneExplanation(out)
		if code != exitOK || jerr != nil {
			t.Errorf("explain %s --json: exit %d, %v, %v\n%s", link, code, err, jerr, out)
			continue
		}
		if e["link"] != link || e["flag"] != flag || !strings.Contains(fmt.Sprint(e["for_children"]), "next children") {
			t.Errorf("explain %s: %v", link, e)
		}
	}
}

// oneExplanation is the entry of `explain NAME --json`.
func oneExplanation(out string) (map[string]any, error) {
	var doc struct {
		Explanations []map[string]any `json:"explanations"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, err
	}
	if len(doc.Explanations) != 1 {
		return nil, fmt.Errorf("%d explanations, want 1", len(doc.Explanations))
	}
	return doc.Explanations[0], nil
}

// What strace prints for a pthread_create or a fork names flags nsinspect's
// experiments leave out, and the exit signal: explain says what each is.
func TestExplainStraceNames(t *testing.T) {
	for _, name := range []string{"CLONE_SETTLS", "CLONE_PARENT_SETTID", "CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID", "CLONE_PTRACE", "CLONE_UNTRACED", "CLONE_DETACHED"} {
		out, code, err := execute(t, "explain", name, "--json")
		e, jerr := oneExplanation(out)
		if code != exitOK || jerr != nil || e["flag"] != name || e["doc"] == "" || e["left_out"] == nil {
			t.Errorf("explain %s: exit %d, %v, entry %v", name, code, err, e)
		}
	}
	out, code, err := execute(t, "explain", "SIGCHLD")
	if code != exitOK || !strings.Contains(out, "exit signal") {
		t.Errorf("explain SIGCHLD: exit %d, %v\n%s", code, err, out)
	}
}

// clone takes the exit signal strace prints and refuses the flags
// experiments leave out with one line: what each does and why it is left
// out, not "unknown" (exit 2). The refusal comes before any privilege is
// needed.
func TestCloneRefusesLeftOutFlags(t *testing.T) {
	paste := "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"
	_, code, err := execute(t, "clone", paste)
	if code != exitUsage || err == nil {
		t.Fatalf("clone %s: exit %d, %v; want 2", paste, code, err)
	}
	msg := inspect.OneLine(err.Error())
	if strings.Contains(msg, "unknown") {
		t.Errorf("the flags are called unknown: %q", msg)
	}
	for _, want := range []string{"CLONE_SETTLS: ", "CLONE_PARENT_SETTID: ", "CLONE_CHILD_CLEARTID: ", "left out because", "'CLONE_FILES|CLONE_FS|CLONE_VM|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM'"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refusal lacks %q: %q", want, msg)
		}
	}
	if _, code, err := execute(t, "clone", "CLONE_NEWNET|SIGUSR1"); code != exitUsage || !strings.Contains(err.Error(), "SIGCHLD") {
		t.Errorf("clone with exit signal SIGUSR1: exit %d, %v; want 2 naming SIGCHLD", code, err)
	}
}
