package builders

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/users"
)

// The operator's own credentials: a Secret it generates per cluster, and the
// environment variables the pods read it from (only when the default user is
// off: the node then starts with the operator's users on its command line).
const (
	// OperatorPasswordEnv carries shoal-operator's (and shoal-replication's)
	// password: the probes, the preStop hook and masterauth use it.
	OperatorPasswordEnv = "SHOAL_OPERATOR_PASSWORD"
	// OperatorPasswordHashEnv carries its SHA-256 (hex): the node's
	// command line defines the users with "#<hash>", so the password
	// itself is not on it.
	OperatorPasswordHashEnv = "SHOAL_OPERATOR_PASSWORD_SHA256"
	// OperatorSecretPasswordKey and OperatorSecretHashKey are the keys of
	// the operator's Secret.
	OperatorSecretPasswordKey = "password"
	OperatorSecretHashKey     = "sha256"
	operatorSecretNameTail    = "-operator"
)

// OperatorSecretName is the Secret of the operator's own password.
func OperatorSecretName(rc *v1alpha1.RedisCluster) string { return rc.Name + operatorSecretNameTail }

// ReplicationOperatorSecretName is the Secret of the operator's own
// password for a RedisReplication whose default user is off.
func ReplicationOperatorSecretName(rr *v1alpha1.RedisReplication) string {
	return rr.Name + operatorSecretNameTail
}

// OperatorSecret is the Secret holding the password of shoal-operator and
// shoal-replication, and its SHA-256. The password comes from the caller
// (the only source of randomness).
func OperatorSecret(rc *v1alpha1.RedisCluster, password string) *corev1.Secret {
	return operatorSecret(objectMeta(rc, OperatorSecretName(rc), ClusterLabels(rc)), password)
}

// ReplicationOperatorSecret is OperatorSecret for a RedisReplication:
// the password of shoal-operator, shoal-replication and shoal-sentinel.
func ReplicationOperatorSecret(rr *v1alpha1.RedisReplication, password string) *corev1.Secret {
	return operatorSecret(replMeta(rr, ReplicationOperatorSecretName(rr), ReplicationLabels(rr, componentNode)), password)
}

func operatorSecret(meta metav1.ObjectMeta, password string) *corev1.Secret {
	sum := sha256.Sum256([]byte(password))
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: meta,
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			OperatorSecretPasswordKey: []byte(password),
			OperatorSecretHashKey:     []byte(hex.EncodeToString(sum[:])),
		},
	}
}

// defaultUserOffArgs are the node's arguments that replace requirepass and
// masterauth when the default user is off: the default user reset (off, no
// password, no rights), the operator's users defined from the start (a new
// node must answer the operator and its own probes before anyone could
// create them) with the operator's rules of the kind (operatorRules), and
// replication as shoal-replication.
func defaultUserOffArgs(operatorRules []string) []string {
	args := append([]string{"--user", "default"}, users.DefaultUserOffRules()...)
	args = append(args, systemUserArgs(users.OperatorUser, operatorRules)...)
	args = append(args, systemUserArgs(users.ReplicationUser, users.ReplicationRules())...)
	return append(args,
		"--masteruser", users.ReplicationUser,
		"--masterauth", fmt.Sprintf("$(%s)", OperatorPasswordEnv))
}

// systemUserArgs define one of the operator's users on the node's command
// line, on, with the operator's password (by its hash) and rules.
func systemUserArgs(name string, rules []string) []string {
	return append([]string{"--user", name, "on", fmt.Sprintf("#$(%s)", OperatorPasswordHashEnv)}, rules...)
}

// operatorEnv are the variables of the operator's password and its hash,
// from the Secret secretName.
func operatorEnv(secretName string) []corev1.EnvVar {
	ref := func(key string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secretName},
			Key:                  key,
		}}
	}
	return []corev1.EnvVar{
		{Name: OperatorPasswordEnv, ValueFrom: ref(OperatorSecretPasswordKey)},
		{Name: OperatorPasswordHashEnv, ValueFrom: ref(OperatorSecretHashKey)},
	}
}

// asOperator makes a probe or hook command authenticate as shoal-operator
// instead of the default user.
func asOperator(cmd []string) []string {
	i := slices.Index(cmd, "--password-env")
	if i < 0 || i+1 >= len(cmd) {
		return cmd
	}
	out := slices.Clone(cmd[:i])
	out = append(out, "--user", users.OperatorUser, "--password-env", OperatorPasswordEnv)
	return append(out, cmd[i+2:]...)
}
