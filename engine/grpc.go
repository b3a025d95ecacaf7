package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// grpcConn makes unary gRPC calls over a unix socket: HTTP/2 without TLS
// ("prior knowledge", which net/http speaks since Go 1.24), a POST to
// /SERVICE/METHOD with the message in one length-prefixed frame, and the
// outcome in the grpc-status trailer
// (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md). That
// is all nsinspect asks of containerd; google.golang.org/grpc would cost
// the binary some megabytes over its image budget for the same calls.
type grpcConn struct {
	sock string
	tr   *http.Transport
}

func dialGRPC(sock string) *grpcConn {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols: &p,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}
	return &grpcConn{sock: sock, tr: tr}
}

func (g *grpcConn) Close() { g.tr.CloseIdleConnections() }

// grpcStatus is a call the server answered with a non-OK status.
type grpcStatus struct {
	Method  string
	Code    int // google.golang.org/grpc/codes
	Message string
}

// The gRPC status codes nsinspect tells apart.
const (
	grpcNotFound         = 5
	grpcPermissionDenied = 7
	grpcUnimplemented    = 12
)

func (e *grpcStatus) Error() string {
	return fmt.Sprintf("%s: status %d: %s", e.Method, e.Code, e.Message)
}

// Is lets a NotFound status match ErrNotFound.
func (e *grpcStatus) Is(target error) bool {
	return target == ErrNotFound && e.Code == grpcNotFound
}

// maxMessage bounds one answer: a task or container list of a busy node
// is far below it.
const maxMessage = 16 << 20

// call sends req (a marshalled message) to method, "/pkg.Service/Method",
// with the containerd namespace ns in the metadata, and returns the
// answer's marshalled message.
func (g *grpcConn) call(ctx context.Context, method, ns string, req []byte) ([]byte, error) {
	frame := make([]byte, 5, 5+len(req))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(req)))
	frame = append(frame, req...)
	// The authority is not looked at: the transport always dials the socket.
	u := &url.URL{Scheme: "http", Host: "containerd", Path: method}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(frame))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/grpc")
	hr.Header.Set("TE", "trailers")
	if ns != "" {
		hr.Header.Set("containerd-namespace", ns)
	}
	resp, err := (&http.Client{Transport: g.tr}).Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %s", method, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMessage+5))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the answer: %w", method, err)
	}
	// A status comes in the trailers, or in the headers of an answer
	// with no message ("trailers-only").
	status := resp.Trailer.Get("Grpc-Status")
	msg := resp.Trailer.Get("Grpc-Message")
	if status == "" {
		status, msg = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	if status != "0" {
		code, err := strconv.Atoi(status)
		if err != nil {
			return nil, fmt.Errorf("%s: no gRPC status in the answer (is %s a gRPC socket?)", method, g.sock)
		}
		m, _ := url.PathUnescape(msg)
		return nil, &grpcStatus{Method: method, Code: code, Message: m}
	}
	return unframe(method, body)
}

// unframe takes the one message out of a unary answer's body.
func unframe(method string, body []byte) ([]byte, error) {
	if len(body) < 5 {
		return nil, fmt.Errorf("%s: an answer of %d bytes, shorter than a gRPC frame", method, len(body))
	}
	if body[0] != 0 {
		return nil, errors.New(method + ": a compressed answer, which was not asked for")
	}
	n := binary.BigEndian.Uint32(body[1:5])
	if int64(n) != int64(len(body)-5) {
		return nil, fmt.Errorf("%s: a frame of %d bytes in an answer of %d", method, n, len(body)-5)
	}
	return body[5:], nil
}
