package command

import "strings"

// Redacted is what SLOWLOG and MONITOR show for a secret argument.
const Redacted = "(redacted)"

// secretsFrom redacts every argument from index i on (AUTH, ACL SETUSER).
func secretsFrom(first int) func(args [][]byte, dst []int) []int {
	return func(args [][]byte, dst []int) []int {
		for i := first; i < len(args); i++ {
			dst = append(dst, i)
		}
		return dst
	}
}

// helloSecrets redacts the user name and password after HELLO's AUTH.
func helloSecrets(args [][]byte, dst []int) []int {
	for i := 2; i+2 < len(args); i++ {
		if strings.EqualFold(string(args[i]), "auth") {
			dst = append(dst, i+1, i+2)
			i += 2
		}
	}
	return dst
}

// MigrateSecrets redacts MIGRATE's AUTH password and AUTH2 user and
// password, in the options before KEYS as Redis parses them.
func MigrateSecrets(args [][]byte, dst []int) []int {
	for i := 6; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "auth":
			if i+1 < len(args) {
				dst = append(dst, i+1)
				i++
			}
		case "auth2":
			if i+2 < len(args) {
				dst = append(dst, i+1, i+2)
				i += 2
			}
		case "keys":
			return dst
		}
	}
	return dst
}

// sensitiveConfigs are the parameters Redis flags SENSITIVE_CONFIG.
var sensitiveConfigs = [...]string{"requirepass", "masterauth", "masteruser", "tls-key-file-pass", "tls-client-key-file-pass"}

// configSetSecrets redacts the values of sensitive parameters in CONFIG SET.
func configSetSecrets(args [][]byte, dst []int) []int {
	for i := 2; i+1 < len(args); i += 2 {
		for _, name := range sensitiveConfigs {
			if strings.EqualFold(string(args[i]), name) {
				dst = append(dst, i+1)
				break
			}
		}
	}
	return dst
}

// RedactedArgs returns args with the spec's secrets replaced by Redacted
// (args itself when there are none).
func (s *Spec) RedactedArgs(args [][]byte) [][]byte {
	if s == nil || s.Secrets == nil {
		return args
	}
	pos := s.Secrets(args, nil)
	if len(pos) == 0 {
		return args
	}
	out := append([][]byte(nil), args...)
	for _, i := range pos {
		out[i] = []byte(Redacted)
	}
	return out
}
