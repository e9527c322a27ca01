package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

// Timeouts of the TLS, users and metrics specs: generous bounds for a
// loaded 2-core machine.
const (
	// rotateTimeout covers the operator's reissue, the kubelet's refresh
	// of the Secret volume (its sync period, about a minute, plus its
	// cache's TTL) and the nodes' reload of the files.
	rotateTimeout = 4 * time.Minute
	// usersTimeout covers a spec.users change reaching every node (the
	// operator applies it on the next reconcile).
	usersTimeout = 2 * time.Minute
	secPoll      = time.Second
	// loadWorkers of a background load, each paced by loadPace.
	secLoadWorkers = 4
	secLoadPace    = 5 * time.Millisecond
	// opsAfterChange is how many more operations the load must complete
	// once a change is everywhere (on connections made after it) before
	// it is stopped and its errors counted.
	opsAfterChange = 400
	secCluster     = "sec"
	appUser        = "app"
	appSecret      = "sec-app-pw"
	appKeys        = 200
)

// secured is the state of the TLS, users and metrics specs: one 3x1
// RedisCluster with spec.tls (the operator's own CA, tls-auth-clients
// yes), a spec.users user limited to app keys and reads, and metrics on.
type secured struct {
	c          client.Client
	cfg        suiteConfig
	operatorNS string
	ns         string
	rc         *v1alpha1.RedisCluster
	password   string
	dir        string // ca.crt, client.crt, client.key for redis-cli
	caPool     *x509.CertPool
	clientCert tls.Certificate
	prom       *promServer
}

// describeSecurity adds the specs of TLS (label tls), ACL users (users)
// and metrics (metrics), which share one RedisCluster formed in BeforeAll.
func describeSecurity(env func() (client.Client, suiteConfig, string)) {
	Describe("TLS, ACL users and metrics on a 3x1 RedisCluster", Ordered, func() {
		s := &secured{}
		BeforeAll(func(ctx SpecContext) {
			s.c, s.cfg, s.operatorNS = env()
			s.ns = createNamespace(ctx, s.c, "shoal-e2e-sec-")
			s.form(ctx)
		}, NodeTimeout(formTimeout+time.Minute))
		AfterAll(func() {
			if s.prom != nil {
				s.prom.stop()
			}
		})

		It("serves redis-cli --tls and a TLS ClusterClient on every shard", Label("tls"), func(ctx SpecContext) {
			s.tlsReadWrite(ctx)
		}, SpecTimeout(3*time.Minute))
		It("refuses a client without a certificate (tls-auth-clients yes)", Label("tls"), func(ctx SpecContext) {
			s.tlsNoCertRefused(ctx)
		}, SpecTimeout(time.Minute))
		It("rotates the nodes' certificate under load with no client error", Label("tls"), func(ctx SpecContext) {
			s.tlsRotate(ctx)
		}, SpecTimeout(rotateTimeout+2*time.Minute))
		It("lets a user limited to ~app:* and +@read GET app keys and nothing else", Label("users"), func(ctx SpecContext) {
			s.usersLimited(ctx)
		}, SpecTimeout(2*time.Minute))
		It("rotates the user's password under load with no authentication error", Label("users"), func(ctx SpecContext) {
			s.usersRotate(ctx)
		}, SpecTimeout(2*usersTimeout+2*time.Minute))
		It("feeds a real Prometheus: every query of the dashboard returns data", Label("metrics"), func(ctx SpecContext) {
			s.metricsDashboard(ctx)
		}, SpecTimeout(4*time.Minute))
		It("fires the master alert when a master pod is deleted and clears it after recovery", Label("metrics"), func(ctx SpecContext) {
			s.metricsAlert(ctx)
		}, SpecTimeout(recoverTimeout+3*time.Minute))
	})
}

func (s *secured) form(ctx SpecContext) {
	By("creating the password Secret of user " + appUser)
	Expect(s.c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: appSecret},
		Data: map[string][]byte{"v1": []byte("app-password-one")}})).To(Succeed())
	s.rc = newRedisCluster(s.ns, secCluster, 3, 1, false)
	s.rc.Spec.TLS = &v1alpha1.TLSSpec{AuthClients: "yes"}
	s.rc.Spec.Users = []v1alpha1.UserSpec{{Name: appUser,
		// A cluster client reads the slot map (CLUSTER SLOTS), and
		// go-redis's the command table once (COMMAND, else it asks again
		// before every command): the two commands beyond +@read it needs.
		Rules:     []string{"~app:*", "+@read", "+cluster|slots", "+command"},
		Passwords: []v1alpha1.SecretKeyRef{{Name: appSecret, Key: "v1"}}}}
	s.rc.Spec.Monitoring = &v1alpha1.MonitoringSpec{Enabled: true, Interval: "2s"}
	By("applying a 3x1 RedisCluster with spec.tls (the operator's CA), spec.users and spec.monitoring")
	applied := time.Now()
	Expect(s.c.Create(ctx, s.rc)).To(Succeed())
	waitReady(ctx, s.c, s.rc, formTimeout)
	AddReportEntry("apply to Ready, 3x1 with TLS, users and metrics", time.Since(applied).Round(100*time.Millisecond).String())
	s.password = clusterPassword(ctx, s.c, s.rc)

	By("issuing a client certificate from the operator's CA")
	var caSecret corev1.Secret
	Expect(s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: s.rc.TLSCASecretName()}, &caSecret)).To(Succeed())
	ca := certgen.Pair{CertPEM: caSecret.Data[builders.TLSCAKey], KeyPEM: caSecret.Data[builders.TLSCAKeyKey]}
	Expect(ca.CertPEM).NotTo(BeEmpty())
	Expect(ca.KeyPEM).NotTo(BeEmpty())
	leaf, err := certgen.Issue(ca, certgen.Request{CommonName: "e2e-client", NotBefore: time.Now().Add(-5 * time.Minute),
		Validity: 24 * time.Hour, Client: true})
	Expect(err).NotTo(HaveOccurred())
	s.clientCert, err = tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	Expect(err).NotTo(HaveOccurred())
	s.caPool = x509.NewCertPool()
	Expect(s.caPool.AppendCertsFromPEM(ca.CertPEM)).To(BeTrue())
	s.dir, err = os.MkdirTemp("", "shoal-e2e-tls-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(os.RemoveAll(s.dir)).To(Succeed()) })
	for name, b := range map[string][]byte{"ca.crt": ca.CertPEM, "client.crt": leaf.CertPEM, "client.key": leaf.KeyPEM} {
		Expect(os.WriteFile(filepath.Join(s.dir, name), b, 0o600)).To(Succeed())
	}
}

// tlsConfig is what a client of the cluster uses: the CA, the name the
// nodes' certificate is valid for (the client Service's), and the client
// certificate when withCert.
func (s *secured) tlsConfig(withCert bool) *tls.Config {
	cfg := &tls.Config{RootCAs: s.caPool, MinVersion: tls.VersionTLS12,
		ServerName: fmt.Sprintf("%s.%s.svc", builders.ClientServiceName(s.rc), s.ns)}
	if withCert {
		cfg.Certificates = []tls.Certificate{s.clientCert}
	}
	return cfg
}

func (s *secured) addrs(ctx context.Context) []string {
	var addrs []string
	for _, p := range nodePods(ctx, s.c, s.rc) {
		addrs = append(addrs, net.JoinHostPort(p.Status.PodIP, strconv.Itoa(builders.RedisPort)))
	}
	return addrs
}

// clusterClient is a TLS ClusterClient as user (password only for the
// default user); connections live at most maxAge (0: no limit), so that a
// load keeps making new TLS handshakes and AUTHs.
func (s *secured) clusterClient(ctx context.Context, user, password string, maxAge time.Duration) *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: s.addrs(ctx), Username: user, Password: password, TLSConfig: s.tlsConfig(true),
		Protocol: 2, DisableIdentity: true, MaxRedirects: 16,
		DialTimeout: clusterIO, ReadTimeout: clusterIO, WriteTimeout: clusterIO,
		ConnMaxLifetime: maxAge, PoolSize: 2 * secLoadWorkers,
	})
}

// redisCLI runs redis-cli --tls -c against ip with the client certificate
// and the default user's password.
func (s *secured) redisCLI(ctx context.Context, ip string, withCert bool, args ...string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	base := []string{"-h", ip, "-p", strconv.Itoa(builders.RedisPort), "--tls", "--cacert", filepath.Join(s.dir, "ca.crt")}
	if withCert {
		base = append(base, "--cert", filepath.Join(s.dir, "client.crt"), "--key", filepath.Join(s.dir, "client.key"))
	}
	base = append(base, "--no-auth-warning", "-a", s.password, "-c")
	out, err := exec.CommandContext(cctx, "redis-cli", append(base, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// lastLine is the reply line of redis-cli's output (a redirect notice may
// precede it).
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func (s *secured) tlsReadWrite(ctx SpecContext) {
	pods := nodePods(ctx, s.c, s.rc)
	Expect(pods).To(HaveLen(6))
	By("writing 30 keys with redis-cli --tls -c (following MOVED), each through another pod")
	for i := range 30 {
		ip := pods[i%len(pods)].Status.PodIP
		out, err := s.redisCLI(ctx, ip, true, "SET", fmt.Sprintf("tls:cli:%d", i), fmt.Sprintf("v%d", i))
		Expect(err).NotTo(HaveOccurred(), "redis-cli SET via %s: %s", ip, out)
		Expect(lastLine(out)).To(Equal("OK"), "redis-cli SET via %s: %s", ip, out)
	}
	out, err := s.redisCLI(ctx, pods[0].Status.PodIP, true, "GET", "tls:cli:7")
	Expect(err).NotTo(HaveOccurred(), out)
	Expect(lastLine(out)).To(Equal("v7"), out)

	By("reading them and writing 1,000 more through a go-redis ClusterClient over TLS")
	cc := s.clusterClient(ctx, "", s.password, 0)
	defer cc.Close()
	for i := range 30 {
		Expect(cc.Get(ctx, fmt.Sprintf("tls:cli:%d", i)).Val()).To(Equal(fmt.Sprintf("v%d", i)))
	}
	_, err = cc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 1000 {
			p.Set(ctx, fmt.Sprintf("tls:go:%d", i), i, 0)
		}
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
	cmds, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 1000 {
			p.Get(ctx, fmt.Sprintf("tls:go:%d", i))
		}
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
	for i, c := range cmds {
		Expect(c.(*redis.StringCmd).Val()).To(Equal(strconv.Itoa(i)))
	}
	By("checking every master holds keys and every node's cluster bus (tls-cluster) reports cluster_state:ok")
	var masters atomic.Int32 // ForEachMaster runs on every master at once
	Expect(cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		if err == nil && n == 0 {
			err = errors.New("a master with no keys")
		}
		masters.Add(1)
		return err
	})).To(Succeed())
	Expect(masters.Load()).To(BeEquivalentTo(3))
	s.expectClusterOK(ctx)
}

// expectClusterOK polls every node over TLS until it reports
// cluster_state:ok and, for a replica, master_link_status:up (the bus and
// the replication links are TLS too).
func (s *secured) expectClusterOK(ctx context.Context) {
	GinkgoHelper()
	Eventually(func(g Gomega, ctx context.Context) {
		for _, p := range nodePods(ctx, s.c, s.rc) {
			rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort(p.Status.PodIP, strconv.Itoa(builders.RedisPort)),
				Password: s.password, TLSConfig: s.tlsConfig(true), Protocol: 2, DisableIdentity: true, MaxRetries: -1,
				DialTimeout: clusterIO, ReadTimeout: clusterIO})
			ci, err := rdb.ClusterInfo(ctx).Result()
			info, ierr := rdb.Info(ctx, "replication").Result()
			rdb.Close()
			g.Expect(err).NotTo(HaveOccurred(), "CLUSTER INFO of %s", p.Name)
			g.Expect(ierr).NotTo(HaveOccurred(), "INFO of %s", p.Name)
			g.Expect(ci).To(ContainSubstring("cluster_state:ok"), "%s", p.Name)
			if strings.Contains(info, "role:slave") {
				g.Expect(info).To(ContainSubstring("master_link_status:up"), "%s", p.Name)
			}
		}
	}).WithContext(ctx).WithTimeout(checkTimeout).WithPolling(secPoll).Should(Succeed())
}

func (s *secured) tlsNoCertRefused(ctx SpecContext) {
	ip := nodePods(ctx, s.c, s.rc)[0].Status.PodIP
	addr := net.JoinHostPort(ip, strconv.Itoa(builders.RedisPort))
	By("PING over TLS without a client certificate (go-redis, then redis-cli)")
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: s.password, TLSConfig: s.tlsConfig(false),
		Protocol: 2, DisableIdentity: true, MaxRetries: -1, DialTimeout: clusterIO, ReadTimeout: clusterIO})
	err := rdb.Ping(ctx).Err()
	rdb.Close()
	Expect(err).To(HaveOccurred(), "a client without a certificate was served")
	fmt.Fprintf(GinkgoWriter, "go-redis without a certificate: %v\n", err)
	out, err := s.redisCLI(ctx, ip, false, "PING")
	Expect(out).NotTo(Equal("PONG"), "redis-cli without a certificate was served")
	fmt.Fprintf(GinkgoWriter, "redis-cli without a certificate: %v: %s\n", err, out)

	By("PING in plain text: the client port speaks TLS only (port 0)")
	plain := redis.NewClient(&redis.Options{Addr: addr, Password: s.password, Protocol: 2, DisableIdentity: true,
		MaxRetries: -1, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second})
	Expect(plain.Ping(ctx).Err()).To(HaveOccurred())
	plain.Close()

	By("the same PING with the client certificate")
	rdb = redis.NewClient(&redis.Options{Addr: addr, Password: s.password, TLSConfig: s.tlsConfig(true),
		Protocol: 2, DisableIdentity: true, MaxRetries: -1, DialTimeout: clusterIO, ReadTimeout: clusterIO})
	defer rdb.Close()
	Expect(rdb.Ping(ctx).Err()).To(Succeed())
}

// servedSerial is the serial number of the certificate a node presents.
func (s *secured) servedSerial(ctx context.Context, ip string) (string, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: s.tlsConfig(true)}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(builders.RedisPort)))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	chain := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(chain) == 0 {
		return "", errors.New("no certificate")
	}
	return chain[0].SerialNumber.String(), nil
}

// secretSerial is the serial number of the nodes' certificate in their
// Secret.
func (s *secured) secretSerial(ctx context.Context) (string, error) {
	var secret corev1.Secret
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: s.rc.TLSSecretName()}, &secret); err != nil {
		return "", err
	}
	cert, err := certgen.Parse(secret.Data[builders.TLSCertKey])
	if err != nil {
		return "", err
	}
	return cert.SerialNumber.String(), nil
}

func (s *secured) tlsRotate(ctx SpecContext) {
	old, err := s.secretSerial(ctx)
	Expect(err).NotTo(HaveOccurred())
	By("starting a load of SET and GET over TLS (connections re-dialled every second)")
	cc := s.clusterClient(ctx, "", s.password, time.Second)
	defer cc.Close()
	load := startLoad(func(ctx context.Context, w, i int) error {
		k := fmt.Sprintf("tls:load:%d:%d", w, i%200)
		if err := cc.Set(ctx, k, i, 0).Err(); err != nil {
			return err
		}
		return cc.Get(ctx, k).Err()
	})
	defer load.stop()
	load.waitOps(ctx, opsAfterChange)

	By("deleting the nodes' certificate Secret: the operator issues a new one from its CA")
	rotated := time.Now()
	Expect(s.c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: s.rc.TLSSecretName()}})).To(Succeed())
	var fresh string
	Eventually(func(g Gomega, ctx context.Context) {
		var err error
		fresh, err = s.secretSerial(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(fresh).NotTo(Equal(old))
	}).WithContext(ctx).WithTimeout(usersTimeout).WithPolling(secPoll).Should(Succeed())

	By("waiting for every node to present the new certificate (Secret volume refreshed, files reloaded, no restart)")
	uids := map[string]string{}
	for _, p := range nodePods(ctx, s.c, s.rc) {
		uids[p.Name] = string(p.UID)
	}
	Eventually(func(g Gomega, ctx context.Context) {
		for _, p := range nodePods(ctx, s.c, s.rc) {
			serial, err := s.servedSerial(ctx, p.Status.PodIP)
			g.Expect(err).NotTo(HaveOccurred(), "TLS handshake with %s", p.Name)
			g.Expect(serial).To(Equal(fresh), "certificate of %s", p.Name)
		}
	}).WithContext(ctx).WithTimeout(rotateTimeout).WithPolling(2 * time.Second).Should(Succeed())
	AddReportEntry("nodes' Secret deleted to every node presenting the new certificate", time.Since(rotated).Round(time.Second).String())
	for _, p := range nodePods(ctx, s.c, s.rc) {
		Expect(string(p.UID)).To(Equal(uids[p.Name]), "pod %s was replaced", p.Name)
		for _, cs := range p.Status.ContainerStatuses {
			Expect(cs.RestartCount).To(BeZero(), "pod %s restarted", p.Name)
		}
	}

	By("letting the load run on connections made with the new certificate, then counting its errors")
	load.waitOps(ctx, load.ops.Load()+opsAfterChange)
	ops, errs, sample := load.stop()
	AddReportEntry("TLS rotation under load: operations, client errors", fmt.Sprintf("%d, %d", ops, errs))
	Expect(errs).To(BeZero(), "client errors during the rotation, e.g. %q", sample)
	s.expectClusterOK(ctx)
}

func (s *secured) usersLimited(ctx SpecContext) {
	admin := s.clusterClient(ctx, "", s.password, 0)
	defer admin.Close()
	By(fmt.Sprintf("writing %d app:* keys and as many other:* keys as the default user", appKeys))
	_, err := admin.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range appKeys {
			p.Set(ctx, fmt.Sprintf("app:%d", i), "v", 0)
			p.Set(ctx, fmt.Sprintf("other:%d", i), "v", 0)
		}
		return nil
	})
	Expect(err).NotTo(HaveOccurred())

	app := s.clusterClient(ctx, appUser, "app-password-one", 0)
	defer app.Close()
	By("GET of every app key as " + appUser + " through a ClusterClient")
	Eventually(func(ctx context.Context) error { return app.Get(ctx, "app:0").Err() }).
		WithContext(ctx).WithTimeout(usersTimeout).WithPolling(secPoll).Should(Succeed())
	for i := range appKeys {
		Expect(app.Get(ctx, fmt.Sprintf("app:%d", i)).Val()).To(Equal("v"), "GET app:%d", i)
	}
	// KEYS * is not in the list: it is in @read and key patterns do not
	// restrict it, in Redis 7.0 as here (it lists other:* keys too).
	By("everything else is refused with NOPERM")
	denied := map[string]error{
		"GET other:1":   app.Get(ctx, "other:1").Err(),
		"SET app:1":     app.Set(ctx, "app:1", "x", 0).Err(),
		"DEL app:1":     app.Del(ctx, "app:1").Err(),
		"FLUSHALL":      app.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() }),
		"CONFIG GET *":  app.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.ConfigGet(ctx, "*").Err() }),
		"SET other:1":   app.Set(ctx, "other:1", "x", 0).Err(),
		"INCR app:n":    app.Incr(ctx, "app:n").Err(),
		"PUBLISH ch hi": app.Publish(ctx, "ch", "hi").Err(),
	}
	for cmd, err := range denied {
		Expect(err).To(HaveOccurred(), "%s as %s", cmd, appUser)
		Expect(err.Error()).To(HavePrefix("NOPERM"), "%s as %s", cmd, appUser)
	}
	Expect(admin.Get(ctx, "app:1").Val()).To(Equal("v"), "a refused SET changed app:1")
}

// authEverywhere is nil when AUTH user password succeeds (want) or is
// refused (!want) on every node.
func (s *secured) authEverywhere(ctx context.Context, user, password string, want bool) error {
	for _, p := range nodePods(ctx, s.c, s.rc) {
		rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort(p.Status.PodIP, strconv.Itoa(builders.RedisPort)),
			TLSConfig: s.tlsConfig(true), Protocol: 2, DisableIdentity: true, MaxRetries: -1, DialTimeout: clusterIO, ReadTimeout: clusterIO})
		err := rdb.Do(ctx, "AUTH", user, password).Err()
		rdb.Close()
		// A refusal is WRONGPASS, not any error (a connection error says
		// nothing of the password).
		if ok := err == nil; ok != want || !want && !strings.HasPrefix(err.Error(), "WRONGPASS") {
			return fmt.Errorf("AUTH %s on %s: %v (want success %v)", user, p.Name, err, want)
		}
	}
	return nil
}

// setPasswords makes the Secret hold keys and the user's passwords name
// them.
func (s *secured) setPasswords(ctx context.Context, data map[string]string, keys ...string) {
	GinkgoHelper()
	var secret corev1.Secret
	Expect(s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: appSecret}, &secret)).To(Succeed())
	secret.Data = map[string][]byte{}
	for k, v := range data {
		secret.Data[k] = []byte(v)
	}
	Expect(s.c.Update(ctx, &secret)).To(Succeed())
	Eventually(func(ctx context.Context) error {
		var rc v1alpha1.RedisCluster
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(s.rc), &rc); err != nil {
			return err
		}
		rc.Spec.Users[0].Passwords = nil
		for _, k := range keys {
			rc.Spec.Users[0].Passwords = append(rc.Spec.Users[0].Passwords, v1alpha1.SecretKeyRef{Name: appSecret, Key: k})
		}
		return s.c.Update(ctx, &rc)
	}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(secPoll).Should(Succeed())
}

func (s *secured) usersRotate(ctx SpecContext) {
	const one, two = "app-password-one", "app-password-two"
	// Each load reads app keys as the app user on connections that live a
	// second: every new connection authenticates again.
	readApp := func(cc *redis.ClusterClient) func(ctx context.Context, w, i int) error {
		return func(ctx context.Context, w, i int) error {
			err := cc.Get(ctx, fmt.Sprintf("app:%d", (w*37+i)%appKeys)).Err()
			if errors.Is(err, redis.Nil) {
				return nil
			}
			return err
		}
	}
	oldClient := s.clusterClient(ctx, appUser, one, time.Second)
	defer oldClient.Close()
	By("a load reading app keys as " + appUser + " with the first password")
	oldLoad := startLoad(readApp(oldClient))
	defer oldLoad.stop()
	oldLoad.waitOps(ctx, opsAfterChange)

	By("adding the second password: both are valid during the switch")
	s.setPasswords(ctx, map[string]string{"v1": one, "v2": two}, "v1", "v2")
	Eventually(func(ctx context.Context) error { return s.authEverywhere(ctx, appUser, two, true) }).
		WithContext(ctx).WithTimeout(usersTimeout).WithPolling(secPoll).Should(Succeed())
	Expect(s.authEverywhere(ctx, appUser, one, true)).To(Succeed())

	By("moving the clients: a second load with the second password, then the first one stops")
	newClient := s.clusterClient(ctx, appUser, two, time.Second)
	defer newClient.Close()
	newLoad := startLoad(readApp(newClient))
	defer newLoad.stop()
	newLoad.waitOps(ctx, opsAfterChange)
	ops, errs, sample := oldLoad.stop()
	AddReportEntry("password rotation: operations and errors with the first password", fmt.Sprintf("%d, %d", ops, errs))
	Expect(errs).To(BeZero(), "errors with the first password, e.g. %q", sample)

	By("removing the first password")
	s.setPasswords(ctx, map[string]string{"v2": two}, "v2")
	Eventually(func(ctx context.Context) error { return s.authEverywhere(ctx, appUser, one, false) }).
		WithContext(ctx).WithTimeout(usersTimeout).WithPolling(secPoll).Should(Succeed())
	newLoad.waitOps(ctx, newLoad.ops.Load()+opsAfterChange)
	ops, errs, sample = newLoad.stop()
	AddReportEntry("password rotation: operations and errors with the second password", fmt.Sprintf("%d, %d", ops, errs))
	Expect(errs).To(BeZero(), "errors with the second password, e.g. %q", sample)
}

// load runs secLoadWorkers goroutines calling op until stopped, counting
// operations and errors (with the first few error messages).
type load struct {
	ops, errs atomic.Int64
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	once      sync.Once
	mu        sync.Mutex
	sample    []string
}

func startLoad(op func(ctx context.Context, w, i int) error) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel}
	for w := range secLoadWorkers {
		l.wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				octx, ocancel := context.WithTimeout(ctx, 2*clusterIO)
				err := op(octx, w, i)
				ocancel()
				switch {
				case err == nil:
					l.ops.Add(1)
				case ctx.Err() == nil:
					l.errs.Add(1)
					l.mu.Lock()
					if len(l.sample) < 10 {
						l.sample = append(l.sample, err.Error())
					}
					l.mu.Unlock()
				}
				time.Sleep(secLoadPace) // pacing the load, not waiting for state
			}
		})
	}
	return l
}

// waitOps polls until the load has completed n operations.
func (l *load) waitOps(ctx context.Context, n int64) {
	GinkgoHelper()
	Eventually(func() int64 { return l.ops.Load() }).WithContext(ctx).WithTimeout(2*time.Minute).
		WithPolling(200*time.Millisecond).Should(BeNumerically(">=", n), "errors so far: %d", l.errs.Load())
}

// stop ends the load (once) and returns its counts.
func (l *load) stop() (ops, errs int64, sample []string) {
	l.once.Do(func() { l.cancel(); l.wg.Wait() })
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ops.Load(), l.errs.Load(), append([]string(nil), l.sample...)
}
