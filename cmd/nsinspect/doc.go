// Command nsinspect shows what Linux processes share: their namespaces, fd
// tables and the resources clone(2) flags share or separate, with the
// kernel's own evidence beside every verdict.
//
// This package is the only one that parses flags, prints, or exits. Exit
// codes are listed in exitcodes.go and in the README.
package main
