// Package faultcontrol is the Go example of etcdlite's testing kit: a Go test starts `etcdlite serve --fault-control`
// on a free port, breaks it through the HTTP fault control, and checks that Go's own etcd client (clientv3, etcd 3.4)
// sees each fault as it sees the real thing: rpctypes.ErrNoLeader, ErrTimeout, ErrCompacted, ErrPermissionDenied, a
// compacted watch, and a dead member.
//
// Run it from the repository root (GOPATH mode, offline, with Debian's golang-etcd-server-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go test ./test/go/
//
// ETCDLITE_SERVE is the command that starts etcdlite's server, split on spaces (default: the TypeScript sources
// through tsx, `node --import tsx src/cli/main.ts serve`, run from the repository root; an installed package is
// `etcdlite serve`).
package faultcontrol

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

// fake is one `etcdlite serve --fault-control` process.
type fake struct {
	endpoint string
	cmd      *exec.Cmd
}

// startFake runs etcdlite's server in memory on a free loopback port and waits until it answers /health.
func startFake(t *testing.T) *fake {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := l.Addr().String()
	l.Close()

	command := strings.Fields(os.Getenv("ETCDLITE_SERVE"))
	if len(command) == 0 {
		command = []string{"node", "--import", "tsx", "src/cli/main.ts", "serve"}
	}
	args := append(command[1:], "--in-memory", "--fault-control", "--listen-client-urls=http://"+endpoint)
	cmd := exec.Command(command[0], args...)
	root, _ := filepath.Abs("../..")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting etcdlite: %v", err)
	}
	f := &fake{endpoint: endpoint, cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + endpoint + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return f
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcdlite did not answer on %s: %s", endpoint, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addFault posts a rule to the fault control and returns its id.
func (f *fake) addFault(t *testing.T, rule string) int {
	t.Helper()
	res, err := http.Post("http://"+f.endpoint+"/etcdlite/faults", "application/json", strings.NewReader(rule))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		ID    int    `json:"id"`
		Error string `json:"error"`
	}
	json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("adding %s: %d %s", rule, res.StatusCode, body.Error)
	}
	return body.ID
}

// removeFaults deletes every rule.
func (f *fake) removeFaults(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, "http://"+f.endpoint+"/etcdlite/faults", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func (f *fake) client(t *testing.T) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{f.endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestFaultsSeenByClientv3(t *testing.T) {
	f := startFake(t)
	c := f.client(t)
	if _, err := c.Put(ctx(t), "k", "v0"); err != nil {
		t.Fatalf("put before any fault: %v", err)
	}

	cases := []struct {
		rule string
		call func() error
		want error
	}{
		{`{"method":"KV.Put","fault":"no-leader","times":1}`, func() error { _, err := c.Put(ctx(t), "k", "v"); return err }, rpctypes.ErrNoLeader},
		{`{"method":"KV.Put","fault":"timeout","times":1}`, func() error { _, err := c.Put(ctx(t), "k", "v"); return err }, rpctypes.ErrTimeout},
		{`{"method":"KV.Put","fault":"leader-changed","times":1}`, func() error { _, err := c.Put(ctx(t), "k", "v"); return err }, rpctypes.ErrLeaderChanged},
		{`{"method":"KV.Range","fault":"compacted","times":1}`, func() error { _, err := c.Get(ctx(t), "k", clientv3.WithRev(1)); return err }, rpctypes.ErrCompacted},
		{`{"method":"KV.Put","prefix":"secret/","fault":"permission-denied","times":1}`, func() error { _, err := c.Put(ctx(t), "secret/k", "v"); return err }, rpctypes.ErrPermissionDenied},
		{`{"method":"KV.Txn","fault":"too-many-requests","times":1}`, func() error { _, err := c.Txn(ctx(t)).Then(clientv3.OpPut("k", "v")).Commit(); return err }, rpctypes.ErrTooManyRequests},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			f.addFault(t, tc.rule)
			if err := tc.call(); err != tc.want {
				t.Fatalf("got %v (%T), want %v", err, err, tc.want)
			}
		})
	}

	// The rules applied once each; the store saw none of the refused writes.
	res, err := c.Get(ctx(t), "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Kvs) != 1 || string(res.Kvs[0].Value) != "v0" {
		t.Fatalf("after the faults: %v", res.Kvs)
	}
}

func TestCompactedWatch(t *testing.T) {
	f := startFake(t)
	c := f.client(t)
	f.addFault(t, `{"method":"Watch","prefix":"jobs/","fault":"compacted","times":1}`)
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for wr := range c.Watch(wctx, "jobs/", clientv3.WithPrefix()) {
		if wr.Err() != rpctypes.ErrCompacted || wr.CompactRevision == 0 {
			t.Fatalf("watch response: err %v, compact revision %d", wr.Err(), wr.CompactRevision)
		}
		return
	}
	t.Fatal("the watch ended without a response")
}

func TestDeadMember(t *testing.T) {
	f := startFake(t)
	c := f.client(t)
	if _, err := c.Put(ctx(t), "k", "v"); err != nil {
		t.Fatal(err)
	}
	f.addFault(t, `{"method":"*","fault":"unavailable"}`)
	short, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// As against a killed etcd: no connection to be had, so the call waits for one until its deadline.
	if _, err := c.Put(short, "k", "dead"); err != context.DeadlineExceeded {
		t.Fatalf("put on a dead member: got %v, want %v", err, context.DeadlineExceeded)
	}
	f.removeFaults(t)
	if _, err := c.Put(ctx(t), "k", "back"); err != nil {
		t.Fatalf("put once the member is back: %v", err)
	}
}

func TestBadRuleIsRefused(t *testing.T) {
	f := startFake(t)
	res, err := http.Post("http://"+f.endpoint+"/etcdlite/faults", "application/json", strings.NewReader(`{"method":"KV.Nope","fault":"no-leader"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]string
	json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body["error"], "unknown method") {
		t.Fatalf("a bad rule: %d %v", res.StatusCode, body)
	}
}
