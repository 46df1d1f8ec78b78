//! The README's shell walkthroughs, run as written against a live gateway
//! (`passerelle serve` on the example configuration and `certs-example/`),
//! so that the documentation partners follow stays true.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The ```sh block following the `<!-- ci: NAME` marker.
fn block(readme: &str, name: &str) -> String {
    let marker = format!("<!-- ci: {name}");
    let at = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README has no {marker}"));
    let rest = &readme[at..];
    let start = rest.find("```sh\n").expect("a sh block after the marker") + 6;
    let end = rest[start..].find("\n```").expect("the block ends");
    rest[start..start + end].to_owned()
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_gateway(data: &Path) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .current_dir(repo())
        .args(["serve", "--config", "config/passerelle.toml", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--console-listen", "127.0.0.1:0"])
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the gateway did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

fn run_block(script: &str, cwd: &Path, gw: &str) {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_passerelle"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env("GW", gw)
        .env("PATH", path)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the README block failed ({:?}):\n--- script\n{script}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_readme_walkthroughs_run_as_written() {
    let require = std::env::var("PASSERELLE_REQUIRE_AGE_CLI").is_ok_and(|v| v == "1");
    if !have("age") || !have("curl") {
        assert!(
            !require,
            "PASSERELLE_REQUIRE_AGE_CLI=1 but age or curl is missing"
        );
        eprintln!("SKIPPED (age CLI, curl): install both to run the README walkthroughs");
        return;
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // A partner's working folder: the development PKI and the samples.
    let work = tmp.path().join("work");
    std::fs::create_dir_all(work.join("tests")).unwrap();
    std::os::unix::fs::symlink(repo().join("certs-example"), work.join("certs-example")).unwrap();
    std::os::unix::fs::symlink(repo().join("tests/samples"), work.join("tests/samples")).unwrap();
    let (_server, port) = start_gateway(&tmp.path().join("data"));
    let gw = format!("https://localhost:{port}");

    run_block(&block(&readme, "curl-walkthrough"), &work, &gw);
    let ret = std::fs::read_to_string(work.join("return.csv")).unwrap();
    assert_eq!(
        ret.lines().count(),
        26,
        "one enrichment row per token of CAF's file"
    );

    run_block(&block(&readme, "client-quick-start"), &work, &gw);
    let inbox: Vec<_> = std::fs::read_dir(work.join("caf/inbox"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(
        inbox.len(),
        2,
        "the other month's enrichment file and CAF's concertation file"
    );
}
