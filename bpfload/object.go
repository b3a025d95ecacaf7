package bpfload

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"

	"github.com/cilium/ebpf"
)

// Object reads a BPF object embedded gzip-compressed (gzip -9 -n of the
// object bpf2go built, made by go generate beside it): the objects are a
// quarter of their size compressed, which keeps the image under its
// budget (docs/containers.md), and inflating one takes well under a
// millisecond. The test of each loader checks that the compressed object
// is the one bpf2go's Go code was generated with.
func Object(gz []byte) (*ebpf.CollectionSpec, error) {
	b, err := Inflate(gz)
	if err != nil {
		return nil, err
	}
	return ebpf.LoadCollectionSpecFromReader(bytes.NewReader(b))
}

// Inflate is the object gz holds.
func Inflate(gz []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("inflating the embedded BPF object: %w", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("inflating the embedded BPF object: %w", err)
	}
	return b, nil
}
