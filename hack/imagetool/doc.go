// Command imagetool builds a FROM-scratch linux/amd64 container image from
// static binaries, without a Docker engine, and writes it as one tarball that
// holds both an OCI image layout (index.json, oci-layout, blobs/) and a Docker
// archive manifest (manifest.json). `ctr images import`, `kind load
// image-archive` and `docker load` all accept it.
//
//	imagetool -tag shoal/node:dev -out dist/node.tar -entrypoint /shoal-node \
//	    -file bin/linux-amd64/shoal-node=/shoal-node
//
// It owns the image layout only; it must not need a Docker engine, a registry
// or network access.
package main
