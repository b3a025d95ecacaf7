// Package nsgraph draws processes and the namespaces they are in as a
// Graphviz DOT graph (https://graphviz.org/doc/info/lang.html): one node
// per process, per thread whose namespaces differ from its leader's, and
// per namespace (identified by NS_GET_ID); an edge from a task to each of
// its namespaces, labelled with the /proc/PID/ns link; and the hierarchy
// the nsfs ioctls give (ioctl_ns(2)): NS_GET_PARENT for pid and user
// namespaces, NS_GET_USERNS for the user namespace that owns each
// namespace.
//
// It also draws one clone experiment: parent, child, and each resource as
// shared (one node both point to) or separate (one node each).
package nsgraph
