// Command provisioner is the dynamic volume provisioner of the local
// single-node cluster (hack/local-cluster.sh). It runs as a host process next
// to the kubelet and serves one StorageClass provisioner name:
//
//   - a Pending PersistentVolumeClaim that the PV controller hands to it
//     (annotation volume.kubernetes.io/storage-provisioner) gets a new
//     hostPath PersistentVolume in a fresh directory under -root, pre-bound
//     to the claim;
//   - a Released PersistentVolume it provisioned, with reclaim policy Delete,
//     has its directory removed and is deleted.
//
// It owns only PersistentVolumes it created and directories under -root. It
// must not touch claims or volumes of other provisioners, never remove a path
// outside -root, and is for local test clusters only (no node affinity, no
// capacity accounting).
package main
