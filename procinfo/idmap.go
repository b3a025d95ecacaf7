package procinfo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// IDMapRange is one line of /proc/PID/uid_map or gid_map
// (user_namespaces(7)): Count ids starting at Inside in the task's user
// namespace are ids starting at Outside in the reader's user namespace.
type IDMapRange struct {
	Inside  uint32 `json:"inside"`
	Outside uint32 `json:"outside"`
	Count   uint32 `json:"count"`
}

// ParseIDMap parses a uid_map or gid_map. An empty map (a user namespace
// whose map was never written) parses to no ranges.
func ParseIDMap(r io.Reader) ([]IDMapRange, error) { return parseReader(r, parseIDMap) }

func parseIDMap(text []byte, readErr error) ([]IDMapRange, error) {
	var out []IDMapRange
	sc := lines{text: text, max: bufio.MaxScanTokenSize, err: readErr}
	for sc.scan() {
		var buf [4][]byte
		f := fields(sc.line, buf[:0])
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return out, fmt.Errorf("%w id map: want 3 numbers, got %q", ErrParse, sc.line)
		}
		var v [3]uint32
		for i, x := range f {
			n, err := strconv.ParseUint(string(x), 10, 32)
			if err != nil {
				return out, fmt.Errorf("%w id map: %v", ErrParse, err)
			}
			v[i] = uint32(n)
		}
		out = append(out, IDMapRange{Inside: v[0], Outside: v[1], Count: v[2]})
	}
	if sc.err != nil {
		return out, fmt.Errorf("%w id map: %v", ErrParse, sc.err)
	}
	return out, nil
}

// UIDMap reads the task's uid_map.
func (p *Proc) UIDMap() ([]IDMapRange, error) { return p.idMap("uid_map") }

// GIDMap reads the task's gid_map.
func (p *Proc) GIDMap() ([]IDMapRange, error) { return p.idMap("gid_map") }

func (p *Proc) idMap(name string) ([]IDMapRange, error) {
	return readParsed(p, name, parseIDMap)
}
