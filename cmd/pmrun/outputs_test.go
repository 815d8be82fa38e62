package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// linksUser is the account TestOutputLinksAsUser runs pmrun as.
const linksUser = "pmrun-links"

// TestOutputLinksAsUser runs pmrun as a user that is not root, the way an
// attack on a shared folder meets it: another user has planted a link in
// a sticky, world-writable folder (/tmp's kind) pointing at a file of the
// victim's. pmrun must refuse to follow it (fs.protected_symlinks, which
// this machine may have turned off) and leave the file alone, while
// following the links the rule allows. A folder the user may not write
// in is refused before the run. CI runs as root: the test creates the
// user with useradd and runs a copy of this binary, as pmrun, under its
// uid.
func TestOutputLinksAsUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to create the test user and to plant another user's link (CI runs the tests as root)")
	}
	u := ensureLinksUser(t)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	const planter = 65534 // nobody: neither the user nor the folder's owner

	// A folder everyone may search, as /tmp is, holding: the binary, the
	// scenario, the victim's private folder and a shared sticky folder.
	base, err := os.MkdirTemp("", "pmrun-links-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	must(t, os.Chmod(base, 0o755))
	bin := filepath.Join(base, "bin")
	must(t, os.Mkdir(bin, 0o755))
	pmrunBin := filepath.Join(bin, "pmrun") // testscript.Main runs pmrun for argv[0] "pmrun"
	copyFile(t, os.Args[0], pmrunBin)
	scenario := filepath.Join(base, "s.yaml")
	must(t, os.WriteFile(scenario, []byte("name: s\nsteps:\n  - log: hi\n"), 0o644))

	home := filepath.Join(base, "home")
	must(t, os.Mkdir(home, 0o700))
	must(t, os.Chown(home, uid, gid))
	secret := filepath.Join(home, "secret")
	must(t, os.WriteFile(secret, []byte("SECRET\n"), 0o600))
	must(t, os.Chown(secret, uid, gid))

	shared := filepath.Join(base, "shared")
	must(t, os.Mkdir(shared, 0o755))
	must(t, os.Chmod(shared, 0o777|fs.ModeSticky))
	link := func(name, target string, owner int) string {
		p := filepath.Join(shared, name)
		must(t, os.Symlink(target, p))
		must(t, os.Lchown(p, owner, owner))
		return p
	}
	planted := link("report.html", secret, planter)
	plantedDir := link("reports", home, planter)
	plantedLog := link("pmrun.log", secret, planter)
	mine := link("mine.html", filepath.Join(home, "mine.html"), uid)
	byOwner := link("owners.html", filepath.Join(home, "owners.html"), 0) // the folder's owner, root

	readOnly := filepath.Join(base, "ro")
	must(t, os.Mkdir(readOnly, 0o555))
	must(t, os.Chown(readOnly, uid, gid))

	run := func(args ...string) (code int, stderr string) {
		cmd := exec.Command(pmrunBin, args...)
		cmd.Dir = home
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home, "TMPDIR=/tmp"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		var errb strings.Builder
		cmd.Stderr = &errb
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			return ee.ExitCode(), errb.String()
		case err != nil:
			t.Fatalf("pmrun %v: %v", args, err)
		}
		return 0, errb.String()
	}
	// The user really is not root, and really can read its own file.
	if code, stderr := run("check", scenario); code != 0 {
		t.Fatalf("pmrun check as %s: exit %d: %s", linksUser, code, stderr)
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"a planted link as the report", []string{"--no-log", "--report", planted}, "owned by another user (uid 65534)"},
		{"a planted link as a folder", []string{"--no-log", "--junit", filepath.Join(plantedDir, "secret")}, "owned by another user"},
		{"a planted link as the log", []string{"--log", plantedLog}, "owned by another user"},
		{"a folder the user may not write in", []string{"--no-log", "--trace", filepath.Join(readOnly, "t.json")}, "cannot create files in its folder " + readOnly + ": access: permission denied"},
		// The menu's recording, by the same rules (its input is empty).
		{"a planted link as the menu's recording", []string{"menu", "--no-log", "--record", planted}, "--record " + planted + ": " + planted + " is a symbolic link owned by another user (uid 65534)"},
		{"a planted link as the recording's folder", []string{"menu", "--no-log", "--record", filepath.Join(plantedDir, "rec.yaml")}, "owned by another user"},
		{"a folder the user may not write in, for the recording", []string{"menu", "--no-log", "--record", filepath.Join(readOnly, "rec.yaml")}, "cannot create files in its folder " + readOnly},
	} {
		args := tt.args
		if args[0] != "menu" {
			args = append(args, scenario)
		}
		code, stderr := run(args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, want 2 and %q:\n%s", tt.name, code, tt.want, stderr)
		}
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "SECRET\n" {
		t.Errorf("the victim's file was changed: %q %v", b, err)
	}
	if fi, err := os.Stat(secret); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the victim's file changed mode: %v %v", fi, err)
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 1 {
		t.Errorf("files appeared in the private folder: %v", entries)
	}

	// Links the rule allows are followed: the user's own, and the folder
	// owner's; the report lands where they lead, 0600, owned by the user.
	for _, l := range []string{mine, byOwner} {
		if code, stderr := run("--no-log", "--report", l, scenario); code != 0 {
			t.Errorf("--report %s: exit %d: %s", l, code, stderr)
		}
	}
	for _, name := range []string{"mine.html", "owners.html"} {
		fi, err := os.Stat(filepath.Join(home, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o600 || int(st.Uid) != uid {
			t.Errorf("%s: mode %v, owner %d", name, fi.Mode().Perm(), st.Uid)
		}
	}
}

// ensureUser returns the test user, creating it (a system user without a
// home or a login shell) if it does not exist.
func ensureLinksUser(t *testing.T) *user.User {
	t.Helper()
	if u, err := user.Lookup(linksUser); err == nil {
		return u
	}
	useradd, err := exec.LookPath("useradd")
	if err != nil {
		t.Skipf("no useradd to create the user %s that pmrun runs as: %v", linksUser, err)
	}
	var out []byte
	for try := 0; try < 5; try++ { // another test's useradd may hold /etc/passwd's lock
		out, err = exec.Command(useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", linksUser).CombinedOutput()
		if u, lerr := user.Lookup(linksUser); lerr == nil {
			return u
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Skipf("could not create the user %s that pmrun runs as: %v: %s", linksUser, err, out)
	return nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
