//! The bootstrap peer's identity: an ed25519 key in the node key file
//! format (64 hex characters of secret, optional trailing newline, mode
//! 0600), so the peer id — and with it the multiaddr written into node
//! configurations — survives restarts.

use std::io::{Read, Write};
use std::path::Path;

use libp2p::identity::Keypair;
use zeroize::Zeroizing;

use crate::BootstrapError;

/// The longest key file read, in bytes.
pub const MAX_KEY_FILE_BYTES: u64 = 1024;

/// Reads the key at `path`, or creates the file with a new random key
/// (never overwriting) if there is none.
pub fn load_or_generate(path: &Path) -> Result<Keypair, BootstrapError> {
    let error = |reason: String| BootstrapError::Key {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::File::open(path) {
        Ok(file) => {
            let mut text = Zeroizing::new(String::new());
            file.take(MAX_KEY_FILE_BYTES + 1)
                .read_to_string(&mut text)
                .map_err(|e| error(e.to_string()))?;
            if text.len() as u64 > MAX_KEY_FILE_BYTES {
                return Err(error("the file is too long for a key".into()));
            }
            let mut secret = Zeroizing::new([0u8; 32]);
            hex::decode_to_slice(text.trim(), &mut secret[..])
                .map_err(|e| error(format!("expected 64 hex characters of ed25519 secret: {e}")))?;
            Keypair::ed25519_from_bytes(&mut secret[..]).map_err(|e| error(e.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = libp2p::identity::ed25519::Keypair::generate();
            let text = Zeroizing::new(format!("{}\n", hex::encode(key.secret().as_ref())));
            write_new(path, text.as_bytes()).map_err(|e| error(e.to_string()))?;
            Ok(Keypair::from(key))
        }
        Err(e) => Err(error(e.to_string())),
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/bootstrap.key");
        let first = load_or_generate(&path).unwrap();
        let second = load_or_generate(&path).unwrap();
        assert_eq!(first.public(), second.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_bad_key_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bootstrap.key");
        std::fs::write(&path, "not hex\n").unwrap();
        let error = load_or_generate(&path).unwrap_err().to_string();
        assert!(error.contains("bootstrap.key"), "{error}");
        assert!(error.contains("64 hex characters"), "{error}");
        std::fs::write(&path, "a".repeat(2000)).unwrap();
        let error = load_or_generate(&path).unwrap_err().to_string();
        assert!(error.contains("too long"), "{error}");
    }
}
