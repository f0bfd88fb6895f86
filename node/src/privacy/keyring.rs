//! The master key file, data keys and sealing.
//!
//! A key file holds a *lookup secret* (from which the blocking and lookup
//! hash keys are derived; it never changes, since changing it would change
//! every blocking key on disk) and one or more *master keys*. The first
//! master key wraps new data keys; the others are only read, during a
//! rotation: a partition that opens finds data keys wrapped under an older
//! master key and re-wraps them under the first (the data itself is never
//! re-encrypted). Every node of a cluster uses the same file, because a
//! partition's store moves between nodes with its wrapped keys.
//!
//! ```text
//! kindred-keys 1
//! lookup <base64, 32 bytes>
//! key <id, 8 hex digits> <base64, 32 bytes>
//! ```
//!
//! Sealed values are `version (1) | nonce (12) | ciphertext | tag (16)`,
//! AES-256-GCM with a random nonce and the value's identity as associated
//! data, so a value moved under another key or row fails to open. A wrapped
//! data key is `master key id (4) | nonce (12) | sealed key (32 + 16)`.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::engine::hash::KeySecret;
use crate::security::auth::hex;

/// The first line of a key file.
const MAGIC: &str = "kindred-keys 1";
/// The version byte of a sealed value.
const SEALED_V1: u8 = 1;
const TAG_LEN: usize = 16;
/// Length of a wrapped data key.
pub const WRAPPED_LEN: usize = 4 + NONCE_LEN + 32 + TAG_LEN;

/// Errors from keys and sealing. None of them carries key material or a
/// sealed value's plaintext.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("a data key is wrapped under master key {0}, which the key file does not hold")]
    UnknownMasterKey(String),
    #[error("a sealed value or data key failed authentication (wrong key, or altered)")]
    Tampered,
    #[error("the system random number generator failed")]
    Random,
}

/// One 256-bit master key and its id.
struct MasterKey {
    id: [u8; 4],
    key: LessSafeKey,
}

impl MasterKey {
    fn new(raw: &[u8; 32]) -> MasterKey {
        MasterKey {
            id: key_id(raw),
            key: aead_key(raw),
        }
    }
}

/// The id of a master key: a hash of it, so a file cannot name a key wrongly.
fn key_id(raw: &[u8; 32]) -> [u8; 4] {
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, raw),
        b"kindred master key id",
    );
    let mut id = [0u8; 4];
    id.copy_from_slice(&tag.as_ref()[..4]);
    id
}

fn aead_key(raw: &[u8; 32]) -> LessSafeKey {
    // AES-256-GCM takes any 32 bytes.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, raw).expect("a 32-byte AES-256 key"))
}

/// A record's data key (256 bits). Its bytes are wiped when dropped.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

fn random<const N: usize>(rng: &SystemRandom) -> Result<[u8; N], KeyError> {
    let mut b = [0u8; N];
    rng.fill(&mut b).map_err(|_| KeyError::Random)?;
    Ok(b)
}

/// Seals `plain` under `key` with `aad`: version, nonce, ciphertext, tag.
fn seal_with(key: &LessSafeKey, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, KeyError> {
    let nonce: [u8; NONCE_LEN] = random(&SystemRandom::new())?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + plain.len() + TAG_LEN);
    out.push(SEALED_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plain);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[1 + NONCE_LEN..],
        )
        .map_err(|_| KeyError::Tampered)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens what [`seal_with`] sealed.
fn open_with(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != SEALED_V1 {
        return Err(KeyError::Tampered);
    }
    let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
        .map_err(|_| KeyError::Tampered)?;
    let mut body = sealed[1 + NONCE_LEN..].to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut body)
        .map_err(|_| KeyError::Tampered)?;
    let n = plain.len();
    body.truncate(n);
    Ok(body)
}

impl DataKey {
    /// Seals a value; `aad` names what it is (its row), so it opens only there.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, KeyError> {
        seal_with(&aead_key(&self.0), aad, plain)
    }

    /// Opens a value sealed under this key with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        open_with(&aead_key(&self.0), aad, sealed)
    }
}

/// The keys of a node: master keys, the lookup secret and what derives from it.
pub struct Keyring {
    masters: Vec<MasterKey>,
    blocking: KeySecret,
    lookup: ring::hmac::Key,
    rng: SystemRandom,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active_id())
            .field("keys", &self.masters.len())
            .finish_non_exhaustive()
    }
}

/// The parsed content of a key file.
struct KeyFile {
    lookup: Zeroizing<[u8; 32]>,
    keys: Vec<Zeroizing<[u8; 32]>>,
}

fn decode32(s: &str) -> Option<Zeroizing<[u8; 32]>> {
    let v = Zeroizing::new(B64.decode(s.trim()).ok()?);
    let mut out = Zeroizing::new([0u8; 32]);
    if v.len() != 32 {
        return None;
    }
    out.copy_from_slice(&v);
    Some(out)
}

impl KeyFile {
    fn parse(text: &str) -> Result<KeyFile, String> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines.next() != Some(MAGIC) {
            return Err(format!("the first line must be {MAGIC:?}"));
        }
        let (mut lookup, mut keys) = (None, Vec::new());
        for (n, line) in lines.enumerate() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["lookup", v] if lookup.is_none() => {
                    lookup = Some(decode32(v).ok_or("the lookup secret is not 32 bytes of base64")?)
                }
                ["key", id, v] => {
                    let k = decode32(v).ok_or(format!("key {id} is not 32 bytes of base64"))?;
                    if hex(&key_id(&k)) != *id {
                        return Err(format!("key {id} does not match its id"));
                    }
                    keys.push(k);
                }
                _ => {
                    return Err(format!(
                        "entry {} is not `lookup B64` or `key ID B64`",
                        n + 1
                    ))
                }
            }
        }
        let lookup = lookup.ok_or("no lookup secret")?;
        if keys.is_empty() {
            return Err("no master key".into());
        }
        Ok(KeyFile { lookup, keys })
    }

    fn render(&self) -> String {
        let mut s = String::from(
            "# Kindred master key file. Keep it secret, and outside the data directory:\n\
             # whoever holds it and a copy of the data can read the data.\n\
             # The first key wraps new data keys; the others are only read, while a\n\
             # rotation re-wraps what they wrapped. The lookup secret never changes.\n",
        );
        s.push_str(MAGIC);
        s.push('\n');
        s.push_str(&format!("lookup {}\n", B64.encode(self.lookup.as_ref())));
        for k in &self.keys {
            s.push_str(&format!(
                "key {} {}\n",
                hex(&key_id(k)),
                B64.encode(k.as_ref())
            ));
        }
        s
    }

    fn generate() -> Result<KeyFile, KeyError> {
        let rng = SystemRandom::new();
        Ok(KeyFile {
            lookup: Zeroizing::new(random(&rng)?),
            keys: vec![Zeroizing::new(random(&rng)?)],
        })
    }
}

/// Writes a key file readable by its owner only, refusing to overwrite.
fn write_new(path: &Path, text: &str) -> Result<(), KeyError> {
    let err = |why: String| KeyError::File {
        path: path.to_path_buf(),
        why,
    };
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path).map_err(|e| err(e.to_string()))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| err(e.to_string()))
}

impl Keyring {
    fn from_file(f: &KeyFile) -> Keyring {
        let lookup = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, f.lookup.as_ref());
        let derive = |label: &[u8]| ring::hmac::sign(&lookup, label);
        let mut blocking = [0u8; 16];
        blocking.copy_from_slice(&derive(b"kindred/blocking/v1").as_ref()[..16]);
        let lookup_key = derive(b"kindred/lookup/v1");
        Keyring {
            masters: f.keys.iter().map(|k| MasterKey::new(k)).collect(),
            blocking: KeySecret::keyed(blocking),
            lookup: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, lookup_key.as_ref()),
            rng: SystemRandom::new(),
        }
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Keyring, KeyError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| KeyError::File {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?);
        let f = KeyFile::parse(&text).map_err(|why| KeyError::File {
            path: path.to_path_buf(),
            why,
        })?;
        Ok(Keyring::from_file(&f))
    }

    /// Reads `path`, creating it with fresh keys first when it does not
    /// exist; true when it was created.
    pub fn load_or_create(path: &Path) -> Result<(Keyring, bool), KeyError> {
        if path.exists() {
            return Ok((Keyring::load(path)?, false));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| KeyError::File {
                path: path.to_path_buf(),
                why: e.to_string(),
            })?;
        }
        write_new(path, &KeyFile::generate()?.render())?;
        Ok((Keyring::load(path)?, true))
    }

    /// Writes a new key file at `path` (which must not exist).
    pub fn generate_file(path: &Path) -> Result<String, KeyError> {
        let f = KeyFile::generate()?;
        write_new(path, &f.render())?;
        Ok(hex(&key_id(&f.keys[0])))
    }

    /// Writes to `to` the key file `from` with a new first master key (the
    /// old ones kept, to be re-wrapped from); returns the new key's id.
    pub fn rotate_file(from: &Path, to: &Path) -> Result<String, KeyError> {
        let err = |why: String| KeyError::File {
            path: from.to_path_buf(),
            why,
        };
        let text = Zeroizing::new(std::fs::read_to_string(from).map_err(|e| err(e.to_string()))?);
        let mut f = KeyFile::parse(&text).map_err(err)?;
        let new = Zeroizing::new(random(&SystemRandom::new())?);
        let id = hex(&key_id(&new));
        f.keys.insert(0, new);
        write_new(to, &f.render())?;
        Ok(id)
    }

    /// A keyring that exists only in memory (tests, engine-only runs).
    pub fn ephemeral() -> Keyring {
        Keyring::from_file(&KeyFile::generate().expect("the system random generator"))
    }

    /// One keyring per process, in memory only: what stores opened without
    /// a keyring of their own use (tests and tools; a node always passes
    /// the keyring of its key file), so a store reopened by the same
    /// process reads what it wrote.
    pub fn process_ephemeral() -> std::sync::Arc<Keyring> {
        static RING: std::sync::OnceLock<std::sync::Arc<Keyring>> = std::sync::OnceLock::new();
        RING.get_or_init(|| std::sync::Arc::new(Keyring::ephemeral()))
            .clone()
    }

    /// The id of the master key that wraps new data keys.
    pub fn active_id(&self) -> String {
        hex(&self.masters[0].id)
    }

    /// The secret that makes blocking keys keyed hashes.
    pub fn blocking_secret(&self) -> KeySecret {
        self.blocking
    }

    /// A keyed hash (HMAC-SHA256, 128 bits kept) of a lookup value such as
    /// a standardised email, for suppression lists and audit entries.
    pub fn lookup_hash(&self, kind: &str, value: &str) -> [u8; 16] {
        lookup_hmac(&self.lookup, kind, value)
    }

    /// A new random data key and its wrapped form for the row named `aad`.
    pub fn new_data_key(&self, aad: &[u8]) -> Result<(DataKey, Vec<u8>), KeyError> {
        let key = DataKey(Zeroizing::new(random(&self.rng)?));
        let wrapped = self.wrap(&key, aad)?;
        Ok((key, wrapped))
    }

    fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<Vec<u8>, KeyError> {
        let m = &self.masters[0];
        let mut out = m.id.to_vec();
        out.extend_from_slice(&seal_with(&m.key, aad, key.0.as_ref())?[1..]);
        Ok(out)
    }

    /// Unwraps a data key; true when it was wrapped under an older master
    /// key and should be re-wrapped ([`Keyring::rewrap`]).
    pub fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<(DataKey, bool), KeyError> {
        if wrapped.len() != WRAPPED_LEN {
            return Err(KeyError::Tampered);
        }
        let (id, rest) = wrapped.split_at(4);
        let (i, m) = self
            .masters
            .iter()
            .enumerate()
            .find(|(_, m)| m.id == id)
            .ok_or_else(|| KeyError::UnknownMasterKey(hex(id)))?;
        let mut sealed = vec![SEALED_V1];
        sealed.extend_from_slice(rest);
        let raw = Zeroizing::new(open_with(&m.key, aad, &sealed)?);
        let mut k = Zeroizing::new([0u8; 32]);
        k.copy_from_slice(&raw);
        Ok((DataKey(k), i != 0))
    }

    /// True when a wrapped data key is wrapped under the first master key.
    pub fn is_active(&self, wrapped: &[u8]) -> bool {
        wrapped.get(..4) == Some(&self.masters[0].id[..])
    }

    /// A wrapped data key re-wrapped under the first master key.
    pub fn rewrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, KeyError> {
        let (k, _) = self.unwrap(aad, wrapped)?;
        self.wrap(&k, aad)
    }
}

/// HMAC-SHA256 of `kind`, 0, `value` under `key`, 128 bits kept.
pub(crate) fn lookup_hmac(key: &ring::hmac::Key, kind: &str, value: &str) -> [u8; 16] {
    let mut ctx = ring::hmac::Context::with_key(key);
    ctx.update(kind.as_bytes());
    ctx.update(&[0]);
    ctx.update(value.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&ctx.sign().as_ref()[..16]);
    out
}

/// Where a node keeps the key file it created itself (no `--master-key-file`).
pub fn default_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("master.key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let ring = Keyring::ephemeral();
        let (k, _) = ring.new_data_key(b"r1").unwrap();
        let (other, _) = ring.new_data_key(b"r2").unwrap();
        let sealed = k.seal(b"records/r1", b"maria@example.com").unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"maria"));
        assert_eq!(
            k.open(b"records/r1", &sealed).unwrap(),
            b"maria@example.com"
        );
        assert!(matches!(
            k.open(b"records/r2", &sealed),
            Err(KeyError::Tampered)
        ));
        assert!(other.open(b"records/r1", &sealed).is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(k.open(b"records/r1", &flipped).is_err());
        // Two seals of one value differ (random nonces).
        assert_ne!(sealed, k.seal(b"records/r1", b"maria@example.com").unwrap());
    }

    #[test]
    fn a_rotated_file_unwraps_old_keys_and_rewraps_them_under_the_new() {
        let dir = tempfile::tempdir().unwrap();
        let (old_path, new_path) = (dir.path().join("a.key"), dir.path().join("b.key"));
        let old_id = Keyring::generate_file(&old_path).unwrap();
        let old = Keyring::load(&old_path).unwrap();
        assert_eq!(old.active_id(), old_id);
        let (k, wrapped) = old.new_data_key(b"row").unwrap();
        let new_id = Keyring::rotate_file(&old_path, &new_path).unwrap();
        let new = Keyring::load(&new_path).unwrap();
        assert_eq!(new.active_id(), new_id);
        assert_ne!(new_id, old_id);
        let (k2, stale) = new.unwrap(b"row", &wrapped).unwrap();
        assert!(stale);
        let rewrapped = new.rewrap(b"row", &wrapped).unwrap();
        assert!(!new.unwrap(b"row", &rewrapped).unwrap().1);
        let sealed = k.seal(b"x", b"value").unwrap();
        assert_eq!(k2.open(b"x", &sealed).unwrap(), b"value");
        // The old file alone cannot read what the new key wrapped.
        assert!(matches!(
            old.unwrap(b"row", &rewrapped),
            Err(KeyError::UnknownMasterKey(_))
        ));
        // Rotation keeps the lookup secret, so blocking keys do not change.
        assert_eq!(old.blocking_secret(), new.blocking_secret());
        assert_eq!(
            old.lookup_hash("email", "a@b.c"),
            new.lookup_hash("email", "a@b.c")
        );
    }

    #[test]
    fn key_files_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/master.key");
        let (_, created) = Keyring::load_or_create(&p).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        }
        let (_, created) = Keyring::load_or_create(&p).unwrap();
        assert!(!created);
        assert!(Keyring::generate_file(&p).is_err());
    }

    #[test]
    fn bad_key_files_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let check = |text: &str, why: &str| {
            std::fs::write(&p, text).unwrap();
            let e = Keyring::load(&p).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        };
        check("hello\n", "first line");
        check("kindred-keys 1\nkey 00000000 AAAA\n", "32 bytes");
        let k = B64.encode([7u8; 32]);
        check(
            &format!("kindred-keys 1\nlookup {k}\nkey 00000000 {k}\n"),
            "does not match",
        );
        check(&format!("kindred-keys 1\nlookup {k}\n"), "no master key");
    }
}
