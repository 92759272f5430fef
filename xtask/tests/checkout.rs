//! xtask acts on the checkout it runs in, whoever compiled the binary:
//! clones that share one build cache share one xtask binary, and a command
//! run in one of them must never touch the other's fleet.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::path::Path;
use std::process::{Command, Stdio};

use xtask::ops::procs::{self, PidRecord};

/// A minimal checkout in `root` whose `up` "started" `sleep` (a pid record
/// for it); returns the sleeping child.
fn checkout_with_a_running_service(root: &Path) -> std::process::Child {
    std::fs::create_dir_all(root.join("xtask")).unwrap();
    std::fs::write(
        root.join("fleet.toml"),
        "[[service]]\nname = \"solo-service\"\nport = 1\nready = \"/ready\"\n",
    )
    .unwrap();
    let sleep = Path::new("/bin/sleep");
    let child = Command::new(sleep)
        .arg("300")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    procs::write_record(
        &procs::record_path(&root.join(".fleet"), "solo-service"),
        &PidRecord {
            pid: child.id(),
            program: sleep.to_path_buf(),
            program_mtime: procs::mtime(sleep).unwrap(),
            url: "http://127.0.0.1:1".into(),
            log: root.join(".fleet/solo-service.log"),
            database: "sqlite".into(),
        },
    )
    .unwrap();
    child
}

#[test]
fn the_same_binary_acts_on_the_checkout_it_runs_in() {
    let bin = env!("CARGO_BIN_EXE_xtask");
    // Two clones, one binary: as `cargo xtask` runs it (cargo names the
    // clone's xtask manifest) and as a binary started from inside a clone.
    for through_cargo in [true, false] {
        let clone = tempfile::tempdir().unwrap();
        let mut sleeping = checkout_with_a_running_service(clone.path());
        let other = tempfile::tempdir().unwrap();
        let mut untouched = checkout_with_a_running_service(other.path());
        let mut cmd = Command::new(bin);
        cmd.arg("down")
            .current_dir(clone.path())
            .env_remove("CARGO_MANIFEST_DIR");
        if through_cargo {
            // The working directory says nothing; cargo's variable does.
            cmd.current_dir(other.path().parent().unwrap())
                .env("CARGO_MANIFEST_DIR", clone.path().join("xtask"));
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("stopped solo-service (pid {})", sleeping.id())),
            "{stdout}"
        );
        // It stopped the clone's process and nothing of the other one.
        assert!(
            sleeping.wait().unwrap().code().is_none(),
            "killed by a signal"
        );
        assert!(
            untouched.try_wait().unwrap().is_none(),
            "the other clone's fleet runs on"
        );
        let _ = untouched.kill();
        let _ = untouched.wait();
    }
}
