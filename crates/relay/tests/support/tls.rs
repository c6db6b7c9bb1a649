//! Certificates for servers on loopback, made with openssl: a certificate
//! authority of the test's own and a certificate it signed for `localhost`
//! and 127.0.0.1, as an internal mail server would have.

use std::{path::Path, process::Command};

/// Writes `ca.pem`, `cert.pem` and `key.pem` into `dir`; the authority's path.
pub fn certificate(dir: &Path) -> std::path::PathBuf {
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let steps = [
        format!("req -x509 {key} -keyout ca.key -out ca.pem -days 2 -subj /CN=test-mail-ca"),
        format!("req {key} -keyout key.pem -out leaf.csr -subj /CN=localhost"),
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile leaf.ext"
            .to_owned(),
    ];
    for step in steps {
        let output =
            Command::new("openssl").current_dir(dir).args(step.split(' ')).output().expect("openssl runs");
        assert!(output.status.success(), "openssl {step:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    dir.join("ca.pem")
}
