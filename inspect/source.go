package inspect

import (
	"errors"
	"fmt"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/schema"
)

// The one place --source is read, for a command's single pass
// (Discover) and for serve's passes to come (OpenSource): auto, bpf,
// listns or proc; bpf where BPF cannot run, and listns on a kernel without
// listns(2), are exit 4 with the reason (for a caller listns(2) shows a
// filtered subset, the listns source says so in a note). What the
// caller should tell the user besides the answer comes back as notes,
// each "note: ..." or "warning: ...", for it to print.

// PassHead is the first keys of a document read from one discovery pass:
// the contract's version and the source that ran (the model's Source).
type PassHead struct {
	SchemaVersion schema.Version `json:"schema_version"`
	Source        string         `json:"source"`
}

// Discover runs one discovery pass with the source named by --source.
// auto falls back to /proc with one note.
func Discover(source string, opt discover.Options) (*model.Model, []string, error) {
	var s discover.Source
	switch source {
	case "auto", "":
		s = discover.Auto{}
	case "bpf":
		s = discover.BPF{}
	case "proc":
		s = discover.Proc{}
	case "listns":
		s = discover.Listns{}
	default:
		return nil, nil, badSource(source)
	}
	m, err := discover.Run(opt, s)
	if err != nil {
		if errors.Is(err, bpfiter.ErrUnavailable) {
			return nil, nil, bpfUnavailable(err)
		}
		if e := listnsUnavailable(err); e != nil {
			return nil, nil, e
		}
		return nil, nil, fmt.Errorf("scanning namespaces: %w", err)
	}
	var notes []string
	if m.Note != "" {
		notes = append(notes, "note: "+m.Note)
	}
	// Every view of the pass (ls, nsproxy, graph, kthreads) says what it
	// could not read: a view that silently drops tasks is wrong.
	if m.Denied.Any() {
		notes = append(notes, "warning: "+DeniedLine(m.Denied))
	}
	return m, notes, nil
}

// OpenSource picks the source of serve's passes once: BPF with the
// iterators loaded for the server's life (62 ms a pass on 6,000
// processes instead of ~80 ms more for each load), or /proc. Call close
// when the server stops.
func OpenSource(name string) (src discover.Source, close func(), notes []string, err error) {
	nop := func() {}
	switch name {
	case "proc":
		return discover.Proc{}, nop, nil, nil
	case "listns":
		// Decided once, as bpf is: a pass that cannot run fails here;
		// one that would see a filtered view says so once.
		err := discover.ListnsUsable()
		if errors.Is(err, discover.ErrListnsFiltered) {
			return discover.Listns{}, nop, []string{"note: " + err.Error() + "; each pass adds that subset to its /proc walk"}, nil
		}
		if err != nil {
			return nil, nil, nil, listnsUnavailable(err)
		}
		return discover.Listns{}, nop, nil, nil
	case "auto", "", "bpf":
	default:
		return nil, nil, nil, badSource(name)
	}
	it, err := bpfiter.Load()
	if err == nil {
		return discover.BPF{Iterators: it}, func() { it.Close() }, nil, nil
	}
	if name == "bpf" {
		if errors.Is(err, bpfiter.ErrUnavailable) {
			return nil, nil, nil, bpfUnavailable(err)
		}
		return nil, nil, nil, fmt.Errorf("loading the BPF iterators: %w", err)
	}
	return discover.Proc{}, nop, []string{"note: BPF unavailable (" + OneLine(err.Error()) + "); passes read /proc instead"}, nil
}

func badSource(name string) error {
	return BadInputf("--source %q: not one of auto, bpf, listns, proc", name)
}

// listnsUnavailable is the one line for --source listns on a kernel
// without listns(2); nil for any other error.
func listnsUnavailable(err error) error {
	var m *features.MissingError
	if !errors.As(err, &m) {
		return nil
	}
	return Wrap(ErrUnsupported, err, "--source listns: this kernel (Linux %s) has no listns(2), which Linux %s added (--source proc reads /proc instead)", features.Kernel().Release, m.Since)
}

func bpfUnavailable(err error) error {
	return Wrap(unavailableKind(err), err, "--source bpf: %v (--source proc reads /proc instead)", err)
}

// unavailableKind is why BPF cannot run here: a kernel without the
// iterators (before 5.8) is ErrUnsupported, anything else (privilege,
// BTF, lockdown) ErrPrivilege. Both exit 4.
func unavailableKind(err error) error {
	if errors.Is(err, features.ErrMissing) {
		return ErrUnsupported
	}
	return ErrPrivilege
}
