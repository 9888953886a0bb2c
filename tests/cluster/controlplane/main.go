// Command controlplane runs a real Kubernetes control plane for the cluster tests, without
// containers: embedded etcd, kube-apiserver, kube-controller-manager (garbage collector,
// namespace, service-account and token controllers) and kube-scheduler, all on loopback ports.
// There is no kubelet: pods are scheduled (bound to Node objects the tests create) but never run.
//
//	controlplane up --dir DIR
//
// writes certificates and DIR/admin.kubeconfig (user "admin" in group system:masters), starts
// everything, prints "READY <kubeconfig>" once /readyz answers, and stops everything on SIGTERM
// or SIGINT. The API server and the controller manager run as child processes of this binary
// (`controlplane kube-apiserver ...`, `controlplane kube-controller-manager ...`,
// `controlplane kube-scheduler ...`), so each keeps
// its own global state (flags, metrics, signal handling) as in a real cluster.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/embed"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

// controllers the tests need: owner references (GC), namespace deletion, service accounts and
// their tokens, and the protection finalizers of volume claims (so deleted PVCs really go).
const controllers = "garbage-collector-controller,namespace-controller,serviceaccount-controller," +
	"serviceaccount-token-controller,root-ca-certificate-publisher-controller," +
	"persistentvolumeclaim-protection-controller,persistentvolume-protection-controller"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: controlplane up --dir DIR | kube-apiserver ARGS | kube-controller-manager ARGS | kube-scheduler ARGS")
		os.Exit(2)
	}
	// the components, each run as a child process of `up` (one per process: global state)
	components := map[string]func() *cobra.Command{
		"kube-apiserver":          apiserver.NewAPIServerCommand,
		"kube-controller-manager": controllermanager.NewControllerManagerCommand,
		"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	}
	if newCommand, ok := components[os.Args[1]]; ok {
		cmd := newCommand()
		cmd.SetArgs(os.Args[2:])
		if err := cmd.Execute(); err != nil {
			os.Exit(1)
		}
		return
	}
	if os.Args[1] != "up" {
		fmt.Fprintf(os.Stderr, "controlplane: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := up(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		os.Exit(1)
	}
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	dir := fs.String("dir", "", "state folder (certificates, etcd data, kubeconfig, logs)")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for /readyz")
	verbosity := fs.Int("v", 0, "klog verbosity of the child processes")
	_ = fs.Parse(args)
	if *dir == "" {
		return errors.New("--dir is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	p, err := writePKI(filepath.Join(*dir, "pki"))
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	apiURL := fmt.Sprintf("https://127.0.0.1:%d", ports[2])

	etcd, err := startEtcd(filepath.Join(*dir, "etcd"), etcdURL, fmt.Sprintf("http://127.0.0.1:%d", ports[1]))
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer etcd.Close()

	kubeconfig := filepath.Join(*dir, "admin.kubeconfig")
	if err := writeKubeconfig(kubeconfig, apiURL, p); err != nil {
		return err
	}
	logs := filepath.Join(*dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	v := "--v=" + strconv.Itoa(*verbosity)
	api, err := child(filepath.Join(logs, "kube-apiserver.log"), "kube-apiserver",
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[2]),
		"--tls-cert-file="+p.serverCert, "--tls-private-key-file="+p.serverKey,
		"--client-ca-file="+p.caCert,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+p.saPub,
		"--service-account-signing-key-file="+p.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
		"--storage-media-type=application/vnd.kubernetes.protobuf",
		v,
	)
	if err != nil {
		return err
	}
	defer terminate(api)
	if err := waitReady(ctx, apiURL, p, *timeout, api); err != nil {
		return fmt.Errorf("kube-apiserver: %w (log: %s)", err, filepath.Join(logs, "kube-apiserver.log"))
	}
	kcm, err := child(filepath.Join(logs, "kube-controller-manager.log"), "kube-controller-manager",
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--secure-port=0",
		"--leader-elect=false",
		"--controllers="+controllers,
		"--service-account-private-key-file="+p.saKey,
		"--root-ca-file="+p.caCert,
		"--use-service-account-credentials=false",
		"--concurrent-gc-syncs=5",
		v,
	)
	if err != nil {
		return err
	}
	defer terminate(kcm)
	sched, err := child(filepath.Join(logs, "kube-scheduler.log"), "kube-scheduler",
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--secure-port=0",
		"--leader-elect=false",
		v,
	)
	if err != nil {
		return err
	}
	defer terminate(sched)

	fmt.Printf("READY %s\n", kubeconfig)
	select {
	case <-ctx.Done():
		return nil
	case <-exited(api):
		return errors.New("kube-apiserver exited")
	case <-exited(kcm):
		return errors.New("kube-controller-manager exited")
	case <-exited(sched):
		return errors.New("kube-scheduler exited")
	case err := <-etcd.Err():
		return fmt.Errorf("etcd: %w", err)
	}
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func startEtcd(dir, clientURL, peerURL string) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "controlplane"
	cfg.Dir = dir
	cu, _ := url.Parse(clientURL)
	pu, _ := url.Parse(peerURL)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = true // test data: speed over durability
	cfg.LogLevel = "error"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, errors.New("not ready after 60s")
	}
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func child(logFile string, args ...string) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = out, out
	// the children die with this process even when it is killed without a chance to clean up
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

func exited(p *proc) <-chan struct{} { return p.done }

func terminate(p *proc) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func waitReady(ctx context.Context, apiURL string, p *pki, timeout time.Duration, api *proc) error {
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(p.caCert)
	if err != nil {
		return err
	}
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(p.adminCert, p.adminKey)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
	}}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := client.Get(apiURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-api.done:
			return errors.New("exited before it was ready")
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("/readyz not ok after %s", timeout)
}
