# The nsinspect image: one static binary FROM scratch, so nothing is pulled
# from a registry. Build it with `make image`, which first stages
# bin/rootfs: the static nsinspect (cgo: internal/nsichild/nsi_child.c, linked with
# -extldflags -static) and an empty /tmp, because the clone lab mounts its
# own tmpfs on /tmp and a scratch image has no /tmp to mount on.
FROM scratch
COPY bin/rootfs/ /
ENTRYPOINT ["/nsinspect"]
CMD ["--help"]
