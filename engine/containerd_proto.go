package engine

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The few messages of containerd's API (github.com/containerd/containerd
// api/services/{containers,tasks,namespaces}/v1 and api/types/task) that
// nsinspect sends and reads, encoded with protowire by their field
// numbers. Fields it does not read are skipped, so a newer containerd's
// additions do no harm.

// ctrContainer is containers.v1.Container: id 1, labels 2, image 3,
// spec 5 (an Any whose value is the OCI runtime spec, as JSON).
type ctrContainer struct {
	ID     string
	Labels map[string]string
	Image  string
	Spec   []byte
}

// ctrProcess is types.Process: container_id 1, id 2, pid 3, status 4.
// containerd's Tasks.List and Get fill id, not container_id (which stays
// empty): a task's id is its container's, and decodeCtrProcess takes
// whichever is set.
type ctrProcess struct {
	ContainerID string
	PID         uint32
	Status      uint64 // UNKNOWN 0, CREATED 1, RUNNING 2, STOPPED 3, PAUSED 4, PAUSING 5
}

var ctrStatus = []string{"unknown", "created", "running", "stopped", "paused", "pausing"}

func (p ctrProcess) status() string {
	if p.Status < uint64(len(ctrStatus)) {
		return ctrStatus[p.Status]
	}
	return "unknown"
}

// stringField is a request whose only field, number 1, is a string:
// GetContainerRequest{id}, tasks' GetRequest{container_id},
// ListPidsRequest{container_id}.
func stringField(s string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), s)
}

var errProto = errors.New("malformed protobuf")

// fields calls each for every field of b; each returns how much of the
// value it consumed, or calls skip for a field it does not read.
func fields(b []byte, each func(num protowire.Number, typ protowire.Type, b []byte) int) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", errProto, protowire.ParseError(n))
		}
		b = b[n:]
		m := each(num, typ, b)
		if m == 0 {
			m = protowire.ConsumeFieldValue(num, typ, b)
		}
		if m < 0 {
			return fmt.Errorf("%w: field %d: %v", errProto, num, protowire.ParseError(m))
		}
		b = b[m:]
	}
	return nil
}

// bytesField reads a length-delimited value; ok is false for another wire type.
func bytesField(typ protowire.Type, b []byte) ([]byte, int) {
	if typ != protowire.BytesType {
		return nil, 0
	}
	v, n := protowire.ConsumeBytes(b)
	return v, n
}

// repeated collects every field num (a message) of b.
func repeated(b []byte, num protowire.Number) ([][]byte, error) {
	var out [][]byte
	err := fields(b, func(f protowire.Number, typ protowire.Type, b []byte) int {
		if f != num {
			return 0
		}
		v, n := bytesField(typ, b)
		if n > 0 {
			out = append(out, v)
		}
		return n
	})
	return out, err
}

// one is the single message field num of b; nil when absent.
func one(b []byte, num protowire.Number) ([]byte, error) {
	all, err := repeated(b, num)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return all[len(all)-1], nil
}

func decodeCtrContainer(b []byte) (ctrContainer, error) {
	c := ctrContainer{Labels: map[string]string{}}
	var inner []error
	err := fields(b, func(num protowire.Number, typ protowire.Type, b []byte) int {
		v, n := bytesField(typ, b)
		if n <= 0 {
			return n
		}
		var err error
		switch num {
		case 1:
			c.ID = string(v)
		case 2:
			var k, val string
			k, val, err = decodeMapEntry(v)
			c.Labels[k] = val
		case 3:
			c.Image = string(v)
		case 5:
			// google.protobuf.Any: type_url 1, value 2.
			c.Spec, err = one(v, 2)
		}
		inner = append(inner, err)
		return n
	})
	return c, errors.Join(append(inner, err)...)
}

// decodeMapEntry reads a map<string,string> entry: key 1, value 2.
func decodeMapEntry(b []byte) (k, v string, err error) {
	err = fields(b, func(num protowire.Number, typ protowire.Type, b []byte) int {
		s, n := bytesField(typ, b)
		switch {
		case n <= 0:
		case num == 1:
			k = string(s)
		case num == 2:
			v = string(s)
		}
		return n
	})
	return k, v, err
}

func decodeCtrProcess(b []byte) (ctrProcess, error) {
	var p ctrProcess
	err := fields(b, func(num protowire.Number, typ protowire.Type, b []byte) int {
		switch {
		case num == 1 || num == 2:
			v, n := bytesField(typ, b)
			if num == 1 || p.ContainerID == "" {
				p.ContainerID = string(v)
			}
			return n
		case (num == 3 || num == 4) && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if num == 3 {
				p.PID = uint32(v)
			} else {
				p.Status = v
			}
			return n
		}
		return 0
	})
	return p, err
}

// decodePids reads ListPidsResponse: repeated ProcessInfo{pid 1} at 1.
func decodePids(b []byte) ([]int, error) {
	infos, err := repeated(b, 1)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, in := range infos {
		err := fields(in, func(num protowire.Number, typ protowire.Type, b []byte) int {
			if num != 1 || typ != protowire.VarintType {
				return 0
			}
			v, n := protowire.ConsumeVarint(b)
			if n > 0 {
				pids = append(pids, int(v))
			}
			return n
		})
		if err != nil {
			return nil, err
		}
	}
	return pids, nil
}

// decodeNamespaces reads ListNamespacesResponse: repeated Namespace{name 1} at 1.
func decodeNamespaces(b []byte) ([]string, error) {
	all, err := repeated(b, 1)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ns := range all {
		name, err := one(ns, 1)
		if err != nil {
			return nil, err
		}
		names = append(names, string(name))
	}
	return names, nil
}
