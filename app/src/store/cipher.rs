//! Encryption at rest through the browser's WebCrypto (`SubtleCrypto`): a random
//! AES-GCM data key, stored only wrapped by a key derived from the worker's PIN
//! (PBKDF2-SHA256), and unwrapped on unlock as a non-extractable key that lives in
//! memory until the app locks.

use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// OWASP's floor for PBKDF2-HMAC-SHA256 (2023 and since).
pub const PBKDF2_ITERATIONS: u32 = 600_000;
const SALT_LEN: usize = 16;
const IV_LEN: usize = 12;

/// A WebCrypto call failed: a wrong PIN, damaged bytes, or no WebCrypto at all
/// (a page served over plain HTTP from another host than localhost).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CryptoError;

/// What is kept on disk, in the clear, to find the data key again: the salt and
/// the iteration count of the PIN's key derivation, and the data key wrapped by it
/// (AES-GCM: the IV, then the wrapped key with its tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wrapped {
    pub salt: Vec<u8>,
    pub iterations: u32,
    pub key: Vec<u8>,
}

/// The data key, usable for encrypting and decrypting, never exportable.
#[derive(Clone)]
pub struct Cipher {
    key: CryptoKey,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher")
    }
}

fn subtle() -> Result<SubtleCrypto, CryptoError> {
    let crypto = web_sys::window()
        .ok_or(CryptoError)?
        .crypto()
        .map_err(|_| CryptoError)?;
    Ok(crypto.subtle())
}

pub fn random_bytes(n: usize) -> Result<Vec<u8>, CryptoError> {
    let mut bytes = vec![0; n];
    web_sys::window()
        .ok_or(CryptoError)?
        .crypto()
        .map_err(|_| CryptoError)?
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|_| CryptoError)?;
    Ok(bytes)
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let obj = Object::new();
    for (key, value) in fields {
        let _ = js_sys::Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj
}

fn usages(names: &[&str]) -> JsValue {
    names
        .iter()
        .map(|n| JsValue::from_str(n))
        .collect::<Array>()
        .into()
}

fn aes_gcm() -> Object {
    object(&[
        ("name", "AES-GCM".into()),
        ("length", JsValue::from_f64(256.0)),
    ])
}

fn gcm_with(iv: &[u8]) -> Object {
    object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(iv).into()),
    ])
}

async fn run(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, CryptoError> {
    JsFuture::from(promise.map_err(|_| CryptoError)?)
        .await
        .map_err(|_| CryptoError)
}

/// The key that wraps the data key, from the PIN.
async fn pin_key(pin: &str, salt: &[u8], iterations: u32) -> Result<CryptoKey, CryptoError> {
    let subtle = subtle()?;
    let raw: Object = Uint8Array::from(pin.as_bytes()).into();
    let base =
        run(subtle.import_key_with_str("raw", &raw, "PBKDF2", false, &usages(&["deriveKey"])))
            .await?
            .unchecked_into::<CryptoKey>();
    let params = object(&[
        ("name", "PBKDF2".into()),
        ("salt", Uint8Array::from(salt).into()),
        ("iterations", JsValue::from_f64(f64::from(iterations))),
        ("hash", "SHA-256".into()),
    ]);
    Ok(run(subtle.derive_key_with_object_and_object(
        &params,
        &base,
        &aes_gcm(),
        false,
        &usages(&["wrapKey", "unwrapKey"]),
    ))
    .await?
    .unchecked_into())
}

/// `data_key` wrapped by a key derived from `pin` under a fresh salt (and IV); also
/// the wrapping key.
async fn wrap(data_key: &CryptoKey, pin: &str) -> Result<(CryptoKey, Wrapped), CryptoError> {
    let salt = random_bytes(SALT_LEN)?;
    let wrapping = pin_key(pin, &salt, PBKDF2_ITERATIONS).await?;
    let iv = random_bytes(IV_LEN)?;
    let wrapped =
        run(subtle()?.wrap_key_with_object("raw", data_key, &wrapping, &gcm_with(&iv))).await?;
    let mut key = iv;
    key.extend(Uint8Array::new(&wrapped).to_vec());
    let wrapped = Wrapped {
        salt,
        iterations: PBKDF2_ITERATIONS,
        key,
    };
    Ok((wrapping, wrapped))
}

impl Cipher {
    /// A new random data key, and it wrapped by `pin`. The key in memory is a second
    /// copy unwrapped as non-extractable; the extractable one is dropped here.
    pub async fn create(pin: &str) -> Result<(Cipher, Wrapped), CryptoError> {
        let subtle = subtle()?;
        let fresh = run(subtle.generate_key_with_object(
            &aes_gcm(),
            true,
            &usages(&["encrypt", "decrypt"]),
        ))
        .await?
        .unchecked_into::<CryptoKey>();
        let (wrapping, wrapped) = wrap(&fresh, pin).await?;
        let cipher = Self::unwrap_with(&wrapping, &wrapped).await?;
        Ok((cipher, wrapped))
    }

    /// The same data key wrapped by `new_pin` instead of `old_pin`, under a new salt:
    /// nothing stored is encrypted again. The key is unwrapped extractable only here,
    /// to be wrapped again, and dropped; the one in memory stays non-extractable. A
    /// wrong `old_pin` fails as an unlock does.
    pub async fn rewrap(
        old_pin: &str,
        wrapped: &Wrapped,
        new_pin: &str,
    ) -> Result<Wrapped, CryptoError> {
        if wrapped.key.len() <= IV_LEN {
            return Err(CryptoError);
        }
        let subtle = subtle()?;
        let old = pin_key(old_pin, &wrapped.salt, wrapped.iterations).await?;
        let (iv, key) = wrapped.key.split_at(IV_LEN);
        let data_key = run(subtle.unwrap_key_with_u8_array_and_object_and_object(
            "raw",
            key,
            &old,
            &gcm_with(iv),
            &aes_gcm(),
            true,
            &usages(&["encrypt", "decrypt"]),
        ))
        .await?
        .unchecked_into::<CryptoKey>();
        Ok(wrap(&data_key, new_pin).await?.1)
    }

    /// The data key from `pin`; a wrong PIN fails (AES-GCM checks the tag).
    pub async fn unlock(pin: &str, wrapped: &Wrapped) -> Result<Cipher, CryptoError> {
        let wrapping = pin_key(pin, &wrapped.salt, wrapped.iterations).await?;
        Self::unwrap_with(&wrapping, wrapped).await
    }

    async fn unwrap_with(wrapping: &CryptoKey, wrapped: &Wrapped) -> Result<Cipher, CryptoError> {
        if wrapped.key.len() <= IV_LEN {
            return Err(CryptoError);
        }
        let (iv, key) = wrapped.key.split_at(IV_LEN);
        let key = run(subtle()?.unwrap_key_with_u8_array_and_object_and_object(
            "raw",
            key,
            wrapping,
            &gcm_with(iv),
            &aes_gcm(),
            false,
            &usages(&["encrypt", "decrypt"]),
        ))
        .await?
        .unchecked_into();
        Ok(Cipher { key })
    }

    /// `plain` encrypted: a fresh random IV, then the ciphertext with its tag.
    pub async fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let iv = random_bytes(IV_LEN)?;
        let sealed =
            run(subtle()?.encrypt_with_object_and_u8_array(&gcm_with(&iv), &self.key, plain))
                .await?;
        let mut out = iv;
        out.extend(Uint8Array::new(&sealed).to_vec());
        Ok(out)
    }

    /// The plain bytes of what [`Cipher::seal`] made; any other key or any changed
    /// byte fails.
    pub async fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < IV_LEN {
            return Err(CryptoError);
        }
        let (iv, data) = sealed.split_at(IV_LEN);
        let plain =
            run(subtle()?.decrypt_with_object_and_u8_array(&gcm_with(iv), &self.key, data)).await?;
        Ok(Uint8Array::new(&plain).to_vec())
    }

    /// Whether the key can leave WebCrypto (it never should).
    pub fn is_extractable(&self) -> bool {
        self.key.extractable()
    }
}
