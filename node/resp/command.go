package resp

// AppendCommand appends a command to dst as RESP: an array of bulk strings,
// the form clients send requests in and the AOF, the replication stream and
// MIGRATE carry. It is the node's one encoder of commands; it allocates
// nothing beyond growing dst.
func AppendCommand[S ~[]byte | ~string](dst []byte, args []S) []byte {
	dst = appendHeader(dst, '*', len(args))
	for _, a := range args {
		dst = appendHeader(dst, '$', len(a))
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}
