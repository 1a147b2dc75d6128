//! A certificate authority of a test's own and the leaves it signs, for the relay's
//! HTTPS: the Rust TLS test trusts it in its client, the browser test in Chromium.

use std::path::Path;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
pub use rustls_pki_types::CertificateDer;

/// A throwaway CA (ECDSA P-256), made fresh each time.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa")
    }
}

/// A certificate for the relay: the chain (leaf, then the CA) and the leaf's key.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub chain_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

impl TestCa {
    pub fn new() -> anyhow::Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Paktum test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)
            .context("making the test CA")?;
        Ok(Self { issuer })
    }

    pub fn der(&self) -> &CertificateDer<'static> {
        self.issuer.der()
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A new key and a leaf for `names` (DNS names), signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> anyhow::Result<Leaf> {
        let key = KeyPair::generate()?;
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .context("signing a leaf")?;
        Ok(Leaf {
            chain_pem: format!("{}{}", cert.pem(), self.issuer.pem()),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        })
    }
}

impl Leaf {
    /// Writes `key.pem` and `cert.pem` into `dir` as a renewal tool does: each to a
    /// temporary name, then renamed over the old one.
    pub fn install(&self, dir: &Path) -> anyhow::Result<()> {
        for (name, text) in [("key.pem", &self.key_pem), ("cert.pem", &self.chain_pem)] {
            let partial = dir.join(format!("{name}.new"));
            std::fs::write(&partial, text)
                .with_context(|| format!("writing {}", partial.display()))?;
            std::fs::rename(&partial, dir.join(name))
                .with_context(|| format!("renaming {}", partial.display()))?;
        }
        Ok(())
    }
}
