package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// gatewayPackage is what buildGateway builds: the module path works from
// any directory of the module.
const gatewayPackage = "github.com/tikasetu/tikasetu/cmd/tikasetu"

// buildGateway builds the tikasetu binary into dir once per run.
func buildGateway(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "tikasetu")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, gatewayPackage)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %w: %s", gatewayPackage, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

// gatewayEnv is a gateway's environment: this process's, without any
// TikaSetu, Twilio or Redis setting of the user's, then set (a key set to
// "" is left out: the gateway's default applies).
func gatewayEnv(base []string, set map[string]string) []string {
	var env []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TIKASETU_") || strings.HasPrefix(k, "TWILIO_") || k == "REDIS_URL" {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v := set[k]; v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// gatewayProc is one `tikasetu serve` subprocess.
type gatewayProc struct {
	Name string
	URL  string // http://127.0.0.1:PORT

	cmd     *exec.Cmd
	logPath string // its stderr: the structured log
	exited  chan struct{}
}

// gatewayStartTimeout bounds how long a gateway may take to answer /healthz.
const gatewayStartTimeout = 20 * time.Second

// startGateway runs bin serve with env (gatewayEnv's settings, without
// TIKASETU_ADDR, which it picks) and waits until /healthz answers. Its
// stderr and stdout go to files in dir.
func startGateway(ctx context.Context, bin, dir, name string, set map[string]string) (*gatewayProc, error) {
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		g, err := tryGateway(ctx, bin, dir, name, set)
		if err == nil {
			return g, nil
		}
		last = err
		if ctx.Err() != nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, fmt.Errorf("start gateway %s: %w", name, last)
}

func tryGateway(ctx context.Context, bin, dir, name string, set map[string]string) (*gatewayProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	all := map[string]string{"TIKASETU_ADDR": addr}
	for k, v := range set {
		all[k] = v
	}
	logPath := filepath.Join(dir, fmt.Sprintf("gateway-%s-%d.log", name, port))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("gateway log: %w", err)
	}
	outFile, err := os.Create(strings.TrimSuffix(logPath, ".log") + ".out")
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("gateway output: %w", err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = gatewayEnv(os.Environ(), all)
	cmd.Stderr, cmd.Stdout = logFile, outFile
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		outFile.Close()
		return nil, fmt.Errorf("run %s serve: %w", bin, err)
	}
	g := &gatewayProc{Name: name, URL: "http://" + addr, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		outFile.Close()
		close(g.exited)
	}()
	if err := g.waitHealthy(ctx); err != nil {
		g.Kill()
		return nil, err
	}
	return g, nil
}

func (g *gatewayProc) waitHealthy(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(gatewayStartTimeout)
	for {
		select {
		case <-g.exited:
			return fmt.Errorf("gateway %s exited at start: %s", g.Name, lastLines(g.Log(), 3))
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/healthz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("gateway %s: %w", g.Name, ctx.Err())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gateway %s: /healthz not 200 within %s: %s", g.Name, gatewayStartTimeout, lastLines(g.Log(), 3))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log returns what the gateway wrote to stderr so far.
func (g *gatewayProc) Log() string {
	b, _ := os.ReadFile(g.logPath)
	return string(b)
}

// Kill ends the gateway at once (SIGKILL, as kill -9) and waits for it.
func (g *gatewayProc) Kill() {
	select {
	case <-g.exited:
		return
	default:
	}
	_ = g.cmd.Process.Kill()
	<-g.exited
}

// Stop asks the gateway to shut down (SIGTERM), and kills it if it has not
// within a few seconds (it may be trying to deliver SMS to a refusing sink).
func (g *gatewayProc) Stop() {
	select {
	case <-g.exited:
		return
	default:
	}
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		g.Kill()
		return
	}
	select {
	case <-g.exited:
	case <-time.After(5 * time.Second):
		g.Kill()
	}
}
