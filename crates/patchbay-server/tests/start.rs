//! `start` with a data directory: the SQLite file and a mode-0600 key file are created, the admin
//! is bootstrapped once, and a second start on the same directory finds everything again.

use std::net::{Ipv4Addr, SocketAddr};

use patchbay_server::{ServerConfig, start};

#[tokio::test]
async fn start_creates_the_database_and_key_file_and_bootstraps_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = ServerConfig {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        data_dir: dir.path().join("data"),
        ..ServerConfig::default()
    };
    let first = start(config.clone()).await.expect("starts");
    let (_, token) = first.bootstrap.clone().expect("the first start bootstraps an admin");
    assert!(token.starts_with("pb_"));
    first.shutdown().await.expect("stops");
    assert!(dir.path().join("data/patchbay.db").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            std::fs::metadata(dir.path().join("data/secret.key")).expect("key file").permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is private");
    }
    let second = start(config).await.expect("starts again");
    assert!(second.bootstrap.is_none());
    second.shutdown().await.expect("stops");
}
